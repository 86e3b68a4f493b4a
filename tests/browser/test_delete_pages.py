"""The delete pages in a real browser: no JavaScript errors ("gettext is not defined" was one)."""

import re

import pytest

from tests.factories import ClientFactory, OrderFactory, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_delete_pages_raise_no_javascript_errors(page):
    make_user("root", superuser=True, password="test")
    lonely = ClientFactory()
    orders = [OrderFactory(product=f"Заказ {n}") for n in range(2)]
    errors = []
    page.on("pageerror", lambda error: errors.append((page.url, str(error))))
    page.on("console", lambda message: message.type == "error" and errors.append((page.url, message.text)))

    page.goto("/admin/login/?next=/admin/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", "test")
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))

    # Each list first: that is what puts the filters' scripts on the delete pages.
    page.goto("/admin/crm/client/")
    page.goto(f"/admin/crm/client/{lonely.pk}/delete/")
    page.wait_for_load_state("networkidle")
    assert page.locator("input[name=post]").count() == 1

    page.goto(f"/admin/crm/order/{orders[0].pk}/delete/")
    page.wait_for_load_state("networkidle")

    page.goto("/admin/crm/order/")
    for order in orders:
        page.check(f"input.action-select[value='{order.pk}']")
    page.select_option("select[name=action]", "delete_selected")
    page.click("button[name=index]")
    page.wait_for_load_state("networkidle")
    assert page.locator("body.delete-selected-confirmation").count() == 1

    assert errors == []
    # The catalogue really is there: Django's gettext works on the page.
    assert page.evaluate("() => typeof gettext === 'function' && typeof gettext_noop === 'function'")
