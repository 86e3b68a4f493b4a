"""Settings for the test suite: production settings with a throwaway key and fast hashing."""

import os

# A developer's .env (DJANGO_DEBUG=1 from `bootstrap run`) must not turn the tests into development runs.
os.environ.setdefault("DJANGO_ENV_FILE", "")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")

from crm.settings import *  # noqa: E402,F401,F403
from crm.settings import STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# The manifest storage needs collectstatic; tests render pages without it.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
