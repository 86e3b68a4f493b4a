"""Every page of the staff UI and the API docs works under the Content-Security-Policy, with no violation."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from crm.models import Client
from tests.browser.conftest import log_in
from tests.factories import ClientFactory, OrderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SAMPLE_CLIENTS = Path(__file__).resolve().parents[2] / "fixtures" / "sample_clients.xlsx"

# Runs in every document before its own scripts: a blocked script, style, image or eval
# fires `securitypolicyviolation` on the document.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
    window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
});
"""


class PolicyWatch:
    """What the browser reported: CSP violations, console errors and warnings, uncaught errors.

    Chromium also logs every violation to the console, so one on a page left before a check still fails it.
    """

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console.append(f"uncaught: {error}"))

    def _on_console(self, message):
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text}")

    def check(self, step: str):
        """Nothing reported so far; call on each page before leaving it (its window.__csp dies with it)."""
        violations = self.page.evaluate("window.__csp")
        assert not violations, f"{step}:\n" + "\n".join(violations)
        assert not self.console, f"{step}:\n" + "\n".join(self.console)


def test_staff_ui_and_api_docs_run_under_the_policy(page, screenshot, demo_manager):
    smirnov = ClientFactory(first_name="Борис", last_name="Смирнов", email="smirnov@example.com")
    ClientFactory(first_name="Анна", last_name="Ёлкина", email="elkina@example.com")
    order = OrderFactory(client=smirnov, product="Ноутбук", status="Pending")
    OrderFactory(product="Монитор", status="Completed")
    watch = PolicyWatch(page)

    # The header really is the enforcing one, not report-only.
    response = page.goto("/admin/login/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    expect(page.locator("#login-form")).to_be_visible()
    screenshot("csp-01-login")
    watch.check("login")
    log_in(page)

    # The dashboard: Alpine, htmx and Chart.js all ran.
    expect(page.locator("#crm-dashboard")).to_be_visible()
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length > 0")
    page.wait_for_function("() => window.Alpine && document.documentElement.hasAttribute('x-data')")
    screenshot("csp-02-dashboard")
    watch.check("dashboard")

    # The Ctrl+K command palette: opened by Alpine, searched through htmx.
    page.keyboard.press("Control+k")
    palette = page.locator("#search-input-command")
    expect(palette).to_be_visible()
    palette.fill("клиент")
    palette.press("End")  # htmx searches on keyup, which fill() does not send
    expect(page.locator("#command-results-list")).to_contain_text("Клиенты")
    screenshot("csp-03-command-palette")
    watch.check("command palette")

    # The client list and its search box.
    page.goto("/admin/crm/client/")
    page.fill("#searchbar", "смирнов")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q="))
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("Смирнов")
    screenshot("csp-04-client-search")
    watch.check("client list")

    # An order's change form, with the client autocomplete (select2 fetching over XHR).
    page.goto(f"/admin/crm/order/{order.pk}/change/")
    page.click("#id_client + .select2 .select2-selection")
    page.fill(".select2-search__field", "ёлкина")
    expect(page.locator(".select2-results__option", has_text="Ёлкина Анна")).to_be_visible()
    screenshot("csp-05-order-change")
    page.keyboard.press("Escape")
    watch.check("order change form")

    # An import: upload, preview, confirm.
    page.goto("/admin/crm/client/import/")
    page.select_option("select[name=format]", label="xlsx")
    page.set_input_files("input[name=import_file]", SAMPLE_CLIENTS)
    screenshot("csp-06-import")
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("input[name=import_file_name]")).to_be_attached()
    screenshot("csp-07-import-preview")
    watch.check("import preview")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/admin/crm/client/$"))
    assert Client.objects.count() == 10
    watch.check("import done")

    # The export page.
    page.goto("/admin/crm/order/export/")
    expect(page.locator("select[name=format]")).to_be_visible()
    screenshot("csp-08-export")
    watch.check("export")

    # A history page.
    page.goto(f"/admin/crm/client/{smirnov.pk}/history/")
    expect(page.locator("body")).to_contain_text("Смирнов")
    screenshot("csp-09-history")
    watch.check("history")

    # The other lists and forms a manager opens, each fully loaded.
    for step, url in [
        ("order list", "/admin/crm/order/"),
        ("client add form", "/admin/crm/client/add/"),
        ("deleted orders", "/admin/crm/historicalorder/"),
        ("reports", "/admin/reports/report/"),
    ]:
        assert page.goto(url).ok, step
        page.wait_for_load_state("networkidle")
        watch.check(step)

    # Swagger UI: its init script is a file, the schema arrives over fetch, the operations render,
    # and "Try it out" calls the API.
    page.goto("/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() >= 15
    client_list = page.locator("#operations-clients-clients_list_query")  # GET /api/clients/get/
    client_list.locator(".opblock-summary").click()
    client_list.locator(".try-out__btn").click()
    client_list.locator(".execute").click()
    expect(client_list.locator(".live-responses-table tbody .response-col_status")).to_have_text("200")
    screenshot("csp-10-api-docs")
    watch.check("api docs")
