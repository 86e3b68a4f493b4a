"""Settings come from the environment with safe defaults."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'engine': s.DATABASES['default']['ENGINE'], "
    "'name': str(s.DATABASES['default']['NAME']), 'tz': s.TIME_ZONE, 'lang': s.LANGUAGE_CODE, "
    "'options': s.DATABASES['default'].get('OPTIONS', {}), 'hosts': s.ALLOWED_HOSTS}))"
)


def run_settings(env_overrides: dict, code: str = PROBE) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "DATABASE_", "SQLITE_", "TIME_ZONE", "LANGUAGE_CODE", "EMAIL_"))}
    # DJANGO_ENV_FILE="": a developer's .env must not leak into these checks.
    env.update({"DJANGO_SETTINGS_MODULE": "crm.settings", "DJANGO_ENV_FILE": "", **env_overrides})
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def probe(env_overrides: dict) -> dict:
    import json

    result = run_settings(env_overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_without_secret_key_refuses_to_start():
    result = run_settings({})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_with_the_development_key_refuses_to_start():
    result = run_settings({"DJANGO_SECRET_KEY": "django-insecure-dev-only-key-never-use-in-production"})
    assert result.returncode != 0


def test_defaults_debug_off_sqlite_moscow_russian():
    values = probe({"DJANGO_SECRET_KEY": "x" * 50})
    assert values["debug"] is False
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"].endswith("db.sqlite3")
    assert values["tz"] == "Europe/Moscow"
    assert values["lang"] == "ru"
    assert values["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in values["options"]["init_command"]
    assert values["options"]["timeout"] >= 5


SYNCHRONOUS_PROBE = (
    "import django; django.setup(); from django.db import connection; "
    "cursor = connection.cursor(); cursor.execute('PRAGMA synchronous'); print(cursor.fetchone()[0])"
)


@pytest.mark.parametrize("setting, expected", [({}, "2"), ({"SQLITE_SYNCHRONOUS": "normal"}, "1")])
def test_sqlite_commits_reach_the_disk_by_default(tmp_path, setting, expected):
    """synchronous=FULL (2): a committed order survives a power cut; NORMAL (1) only when asked for."""
    result = run_settings({"DJANGO_SECRET_KEY": "x" * 50, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                           **setting}, code=SYNCHRONOUS_PROBE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_an_unknown_sqlite_synchronous_mode_is_refused():
    result = run_settings({"DJANGO_SECRET_KEY": "x" * 50, "SQLITE_SYNCHRONOUS": "OFF"})
    assert result.returncode != 0 and "SQLITE_SYNCHRONOUS must be FULL or NORMAL" in result.stderr


def test_environment_overrides():
    values = probe({
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
        "TIME_ZONE": "Asia/Yekaterinburg",
        "LANGUAGE_CODE": "en",
        "DJANGO_ALLOWED_HOSTS": "crm.example.com,api.example.com",
    })
    assert values["debug"] is True
    assert values["engine"] == "crm.db.postgresql"  # Django's backend, see crm/db/postgresql/base.py
    assert values["name"] == "test"
    assert values["tz"] == "Asia/Yekaterinburg"
    assert values["lang"] == "en"
    assert values["hosts"] == ["crm.example.com", "api.example.com"]


def test_debug_without_secret_key_uses_development_key():
    values = probe({"DJANGO_DEBUG": "1"})
    assert values["debug"] is True


@pytest.mark.slow
def test_check_deploy_is_clean_in_production_mode():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
             "DJANGO_SECRET_KEY": "k8#Jx!2vQ9zL@4mN7pR1sT6wY3bC5dF0gH8jK2lM4nP6qR8sT0vW2xY4zA6bC8dE",
             "DJANGO_SETTINGS_MODULE": "crm.settings", "DJANGO_ENV_FILE": ""},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cache_defaults_to_per_process_memory_and_takes_a_redis_url():
    code = ("import django, json; django.setup(); from django.conf import settings as s; "
            "print(json.dumps(s.CACHES['default']))")
    import json

    default = run_settings({"DJANGO_SECRET_KEY": "x" * 50}, code)
    assert json.loads(default.stdout.strip().splitlines()[-1])["BACKEND"].endswith("LocMemCache")
    redis = run_settings({"DJANGO_SECRET_KEY": "x" * 50, "CACHE_URL": "redis://127.0.0.1:6379/1"}, code)
    assert json.loads(redis.stdout.strip().splitlines()[-1]) == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/1"}


def test_env_file_is_read(tmp_path):
    env_file = tmp_path / "crm.env"
    env_file.write_text("DJANGO_SECRET_KEY=from-the-file-0123456789\nTIME_ZONE=Asia/Novosibirsk\n")
    values = probe({"DJANGO_ENV_FILE": str(env_file)})
    assert values["tz"] == "Asia/Novosibirsk"
    # The environment wins over the file.
    assert probe({"DJANGO_ENV_FILE": str(env_file), "TIME_ZONE": "Europe/Samara"})["tz"] == "Europe/Samara"


SECURITY_PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'hsts': s.SECURE_HSTS_SECONDS, 'subdomains': s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
    "'preload': s.SECURE_HSTS_PRELOAD, 'proxies': s.PROXY_COUNT, 'num_proxies': s.REST_FRAMEWORK['NUM_PROXIES'], "
    "'ssl_header': getattr(s, 'SECURE_PROXY_SSL_HEADER', None), 'silenced': s.SILENCED_SYSTEM_CHECKS, "
    "'axes': [s.AXES_FAILURE_LIMIT, s.AXES_ADDRESS_FAILURE_LIMIT]}))"
)


def security(env_overrides: dict) -> dict:
    import json

    result = run_settings({"DJANGO_SECRET_KEY": "x" * 50, **env_overrides}, SECURITY_PROBE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_hsts_is_a_year_for_this_site_only_by_default():
    values = security({})
    assert values["hsts"] == 31536000
    assert values["subdomains"] is False
    assert values["preload"] is False
    # check --deploy would warn about the two; they are off on purpose.
    assert {"security.W005", "security.W021"} <= set(values["silenced"])


def test_hsts_options_on_request():
    values = security({"DJANGO_SECURE_HSTS_SECONDS": "600", "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
                       "DJANGO_SECURE_HSTS_PRELOAD": "1"})
    assert (values["hsts"], values["subdomains"], values["preload"]) == (600, True, True)
    assert not {"security.W005", "security.W021"} & set(values["silenced"])


def test_hsts_is_off_in_development():
    assert security({"DJANGO_DEBUG": "1"})["hsts"] == 0


def test_forwarded_headers_are_not_trusted_without_a_proxy():
    values = security({})
    # 0, not None: with None DRF would key the rate limits on any client's X-Forwarded-For.
    assert (values["proxies"], values["num_proxies"], values["ssl_header"]) == (0, 0, None)
    # Without DJANGO_BEHIND_PROXY the count is ignored.
    assert security({"DJANGO_PROXY_COUNT": "2"})["proxies"] == 0


@pytest.mark.parametrize("env, count", [({}, 1), ({"DJANGO_PROXY_COUNT": "2"}, 2)])
def test_behind_a_proxy_its_hops_are_trusted(env, count):
    values = security({"DJANGO_BEHIND_PROXY": "1", **env})
    assert (values["proxies"], values["num_proxies"]) == (count, count)
    assert values["ssl_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_a_negative_proxy_count_is_refused():
    result = run_settings({"DJANGO_SECRET_KEY": "x" * 50, "DJANGO_BEHIND_PROXY": "1", "DJANGO_PROXY_COUNT": "-1"},
                          SECURITY_PROBE)
    assert result.returncode != 0 and "DJANGO_PROXY_COUNT" in result.stderr


def test_login_failure_limits_from_the_environment():
    assert security({})["axes"] == [5, 30]
    assert security({"AXES_FAILURE_LIMIT": "3", "AXES_ADDRESS_FAILURE_LIMIT": "50"})["axes"] == [3, 50]


def test_an_address_failure_limit_below_one_is_refused():
    result = run_settings({"DJANGO_SECRET_KEY": "x" * 50, "AXES_ADDRESS_FAILURE_LIMIT": "0"}, SECURITY_PROBE)
    assert result.returncode != 0 and "AXES_ADDRESS_FAILURE_LIMIT" in result.stderr


EMAIL_PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_USE_TLS, "
    "s.EMAIL_USE_SSL, s.EMAIL_TIMEOUT, s.DEFAULT_FROM_EMAIL]))"
)


def email_settings(env_overrides: dict) -> list:
    import json

    result = run_settings(env_overrides, EMAIL_PROBE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_e_mail_goes_to_the_console_in_development_and_through_smtp_in_production():
    assert email_settings({"DJANGO_DEBUG": "1"})[0] == "django.core.mail.backends.console.EmailBackend"
    production = email_settings({
        "DJANGO_SECRET_KEY": "x" * 50, "EMAIL_HOST": "smtp.example.com", "EMAIL_PORT": "587",
        "EMAIL_HOST_USER": "crm", "EMAIL_HOST_PASSWORD": "secret", "EMAIL_USE_TLS": "1",
        "DEFAULT_FROM_EMAIL": "CRM <crm@example.com>",
    })
    assert production == [
        "django.core.mail.backends.smtp.EmailBackend", "smtp.example.com", 587, "crm", True, False, 30,
        "CRM <crm@example.com>",
    ]


def test_e_mail_settings_that_cannot_work_refuse_to_start():
    both = run_settings({"DJANGO_DEBUG": "1", "EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, EMAIL_PROBE)
    assert both.returncode != 0 and "EMAIL_USE_TLS or EMAIL_USE_SSL" in both.stderr
    unknown = run_settings({"DJANGO_DEBUG": "1", "EMAIL_BACKEND": "smpt"}, EMAIL_PROBE)
    assert unknown.returncode != 0 and "EMAIL_BACKEND must be smtp, console or a dotted path" in unknown.stderr
    no_wait = run_settings({"DJANGO_DEBUG": "1", "EMAIL_TIMEOUT": "0"}, EMAIL_PROBE)
    assert no_wait.returncode != 0 and "EMAIL_TIMEOUT must be a number of seconds above 0" in no_wait.stderr


def test_every_command_of_ours_prints_its_help():
    """A lazily translated help text reached argparse as a proxy, and `--help` crashed (crm/management/base.py)."""
    from django.core.management import get_commands, load_command_class

    ours = {name: app for name, app in get_commands().items() if app in ("crm", "reports", "api")}
    assert {"backup", "bench_import", "import_clients", "export_orders", "make_report", "rebuild_rollups"} <= set(ours)
    for name, app in ours.items():
        text = load_command_class(app, name).create_parser("manage.py", name).format_help()
        assert text.startswith("usage: manage.py " + name), name
