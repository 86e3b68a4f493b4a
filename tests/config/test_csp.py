"""The Content-Security-Policy header: on every kind of response, same-origin only, report-only on request."""

import json
import re

import pytest
from django.urls import reverse

from tests.config.test_settings import run_settings

HEADER = "Content-Security-Policy"

# Allowed sources are keywords ('self', 'none', ...) or data:; never a host.
KEYWORD_OR_DATA = re.compile(r"^('[a-z-]+'|data:)$")


def directives(response) -> dict[str, list[str]]:
    """The response's policy as {directive: [sources]}."""
    assert HEADER in response, f"no {HEADER} header on {response.status_code} {response.get('Content-Type')}"
    policy = {}
    for part in response[HEADER].split(";"):
        name, *sources = part.split()
        policy[name] = sources
    return policy


def assert_same_origin_policy(policy: dict[str, list[str]]):
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    # No inline scripts anywhere: only eval, for Alpine.js.
    assert policy["script-src"] == ["'self'", "'unsafe-eval'"]
    for name, sources in policy.items():
        assert all(KEYWORD_OR_DATA.match(source) for source in sources), f"{name} allows another origin: {sources}"


@pytest.mark.parametrize("url", ["/admin/login/", "/api/docs/", "/api/docs/?script=", "/api/nothing-here/"])
def test_anonymous_pages_carry_the_policy(client, url):
    response = client.get(url)

    assert_same_origin_policy(directives(response))
    assert "Content-Security-Policy-Report-Only" not in response


@pytest.mark.parametrize("url_name", ["admin:index", "admin:crm_client_changelist", "admin:crm_client_import"])
def test_admin_pages_carry_the_policy(client, manager, url_name):
    client.force_login(manager)

    response = client.get(reverse(url_name))

    assert response.status_code == 200
    assert_same_origin_policy(directives(response))


def test_api_responses_carry_the_policy(client, manager):
    assert_same_origin_policy(directives(client.get("/api/clients/get/")))  # 401
    client.force_login(manager)
    response = client.get("/api/clients/get/")

    assert response.status_code == 200
    assert_same_origin_policy(directives(response))


def test_api_docs_page_has_no_inline_script(client):
    html = client.get("/api/docs/").content.decode()

    scripts = re.findall(r"<script\b[^>]*>", html)
    assert len(scripts) == 3
    assert all(" src=" in tag for tag in scripts), scripts
    init = client.get("/api/docs/?script=")
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in init.content.decode()


def test_api_docs_load_no_validator_badge_from_another_host(client):
    init = client.get("/api/docs/?script=").content.decode()

    settings_json = re.search(r"const swaggerSettings = (\{.*?\});", init, re.S).group(1)
    assert json.loads(settings_json)["validatorUrl"] is None


HEADERS_PROBE = (
    "import django, json; django.setup(); from django.test import Client; "
    "r = Client(HTTP_HOST='localhost').get('/api/clients/get/', secure=True); "
    "print(json.dumps({k: v for k, v in r.headers.items() if 'Content-Security' in k}))"
)


@pytest.mark.parametrize(
    "env, enforced, reported",
    [
        ({}, True, False),
        ({"DJANGO_CSP_REPORT_ONLY": "1"}, False, True),
    ],
)
def test_report_only_mode_sends_the_same_policy_without_enforcing_it(env, enforced, reported):
    result = run_settings({"DJANGO_SECRET_KEY": "x" * 50, **env}, HEADERS_PROBE)
    assert result.returncode == 0, result.stderr
    headers = json.loads(result.stdout.strip().splitlines()[-1])

    assert (HEADER in headers) is enforced
    assert ("Content-Security-Policy-Report-Only" in headers) is reported
    policy = headers.get(HEADER) or headers["Content-Security-Policy-Report-Only"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_a_report_uri_can_be_set():
    result = run_settings(
        {"DJANGO_SECRET_KEY": "x" * 50, "DJANGO_CSP_REPORT_ONLY": "1", "DJANGO_CSP_REPORT_URI": "/csp-reports/"},
        HEADERS_PROBE,
    )
    assert result.returncode == 0, result.stderr
    headers = json.loads(result.stdout.strip().splitlines()[-1])

    assert headers["Content-Security-Policy-Report-Only"].endswith("report-uri /csp-reports/")
