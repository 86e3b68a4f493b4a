"""Settings for the CRM: every value comes from the environment (or a `.env` file), in one place."""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_EVAL, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file beside manage.py is read if present; DJANGO_ENV_FILE names another one ("" reads none).
ENV_FILE = environ.Env().str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    env.read_env(ENV_FILE)

# ---------------------------------------------------------------------------
# Core
# ---------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)

INSECURE_DEV_SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it in the environment or .env "
            "(or set DJANGO_DEBUG=1 for local development)."
        )
    SECRET_KEY = INSECURE_DEV_SECRET_KEY
elif SECRET_KEY == INSECURE_DEV_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured("The development secret key cannot be used in production.")

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else ["127.0.0.1", "localhost"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.import_export",
    "unfold.contrib.simple_history",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "simple_history",
    "import_export",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served locally: the docs work offline
    "django_filters",
    "axes",
    "crm",
    "api",
    "reports",
    # Background jobs (Django's tasks API, DEP 14; the backport until Django 6) and our Job records.
    "django_tasks",
    "django_tasks_db",
    "crm.jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The Content-Security-Policy header (see "Content-Security-Policy" below).
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # AxesMiddleware must be last: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "crm" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# ---------------------------------------------------------------------------
# Database: SQLite by default, PostgreSQL (or any) through DATABASE_URL
# ---------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, minus the health check's round trip right after a request without error.
    DATABASES["default"]["ENGINE"] = "crm.db.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several worker processes write at once: WAL lets readers go on while one writes,
    # IMMEDIATE takes the write lock up front and the busy timeout makes writers wait
    # for it instead of failing with "database is locked". synchronous=FULL flushes the WAL to disk
    # at every commit, so a saved order survives a power cut, as on PostgreSQL (NORMAL would only
    # survive a crash of the app).
    sqlite_synchronous = env.str("SQLITE_SYNCHRONOUS", default="FULL").upper()
    if sqlite_synchronous not in ("FULL", "NORMAL"):
        raise ImproperlyConfigured("SQLITE_SYNCHRONOUS must be FULL or NORMAL.")
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=20),
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            f"PRAGMA synchronous={sqlite_synchronous};"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA temp_store=MEMORY;"
            "PRAGMA cache_size=-65536;"
            "PRAGMA mmap_size=268435456;"
        ),
    }

# `manage.py backup` writes here unless given --output (see crm/backups/); outside the project in production.
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(BASE_DIR / "backups")))

# ---------------------------------------------------------------------------
# Cache: API rate limits live here. The default is per process; with several gunicorn
# workers set CACHE_URL=redis://127.0.0.1:6379/1 so the limits are shared.
# ---------------------------------------------------------------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# ---------------------------------------------------------------------------
# Authentication and login protection
# ---------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# unfold's login form posts no `next`: without one, land on the dashboard (Django's default is /accounts/profile/).
LOGIN_REDIRECT_URL = "admin:index"

AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# Two limits within the cool-off (api/lockout.py): failed logins for one user name from one address, and failed
# logins from one address whatever the user names (password spraying). Either locks the address out.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=30)
if AXES_ADDRESS_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured("AXES_ADDRESS_FAILURE_LIMIT must be 1 or more (0 would lock every address out).")
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_HANDLER = "api.lockout.LoginFailureHandler"
# What a successful login forgets: that user name's failures from that address, never the address's other ones.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The client's address as the API's rate limits see it: X-Forwarded-For only from trusted proxies (PROXY_COUNT).
AXES_CLIENT_IP_CALLABLE = "api.throttling.client_address"
# A locked-out admin login gets an unfold-styled page; /api/ gets the JSON envelope (429).
AXES_LOCKOUT_CALLABLE = "crm.admin.accounts.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429

# ---------------------------------------------------------------------------
# Internationalisation
# ---------------------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="ru")
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------
# Static files (served by WhiteNoise, no nginx needed)
# ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# ---------------------------------------------------------------------------
# Security (production defaults; each can be relaxed from the environment)
# ---------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
# Both bind more than this site (every subdomain; browsers' built-in lists, hard to leave): only when asked for.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a reverse proxy, trust its X-Forwarded-Proto, and X-Forwarded-For from the last PROXY_COUNT hops only
# (api/throttling.py: rate limits and login lockouts per client address). Without a proxy both are the client's
# own words and are ignored.
BEHIND_PROXY = env.bool("DJANGO_BEHIND_PROXY", default=False)
PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=1) if BEHIND_PROXY else 0
if PROXY_COUNT < 0:
    raise ImproperlyConfigured("DJANGO_PROXY_COUNT must be 0 or more.")
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = env.list("DJANGO_SILENCED_SYSTEM_CHECKS", default=[])
# `check --deploy` warns about the two HSTS options above; leaving them off is the deliberate default.
if SECURE_HSTS_SECONDS and not SECURE_HSTS_INCLUDE_SUBDOMAINS:
    SILENCED_SYSTEM_CHECKS.append("security.W005")
if SECURE_HSTS_SECONDS and not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# ---------------------------------------------------------------------------
# Content-Security-Policy (django-csp): pages load scripts, styles, fonts and images from this
# origin only, post forms only to it, and nothing may frame them. No page has an inline script
# (unfold's templates have none; /api/docs/ loads its init script as a file), so scripts need no nonce.
# ---------------------------------------------------------------------------
CONTENT_SECURITY_POLICY_DIRECTIVES = {
    "default-src": [SELF],
    # Alpine.js (unfold's whole UI) compiles its x-data/x-on expressions with the Function constructor;
    # its CSP build would need every unfold template rewritten.
    "script-src": [SELF, UNSAFE_EVAL],
    # unfold's theme colours and the API docs' base styles are inline <style> elements, htmx injects
    # one, and unfold's templates set style="" attributes with computed values (progress bar widths).
    "style-src": [SELF, UNSAFE_INLINE],
    # Swagger UI's stylesheet (and unfold's Trix editor) draw small icons as data: images.
    "img-src": [SELF, "data:"],
    "object-src": [NONE],
    "base-uri": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
    # Where browsers POST violation reports, if set (e.g. while trying the policy in report-only mode).
    "report-uri": env.list("DJANGO_CSP_REPORT_URI", default=[]) or None,
}
# Report-only: browsers report violations (console, report-uri) but block nothing; for trying a change first.
if env.bool("DJANGO_CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": CONTENT_SECURITY_POLICY_DIRECTIVES}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": CONTENT_SECURITY_POLICY_DIRECTIVES}

# ---------------------------------------------------------------------------
# Logging: errors to the console, so gunicorn/systemd collect them
# ---------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
}

# ---------------------------------------------------------------------------
# REST API
# ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's, with a cheaper user lookup (api/authentication.py).
        "api.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        # DRF's, refusing too deep nesting and unpaired surrogates with a 400 (api/parsers.py).
        "api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # REST framework's JSONRenderer output, written faster (api/renderers.py).
    "DEFAULT_RENDERER_CLASSES": ["api.renderers.FastJSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every error, whatever raised it, becomes the contract's {"success": false, "error": ...} envelope.
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    # The token endpoints use api.throttling.TokenRateThrottle (per address) instead.
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.UserThrottle"],
    # X-Forwarded-For hops to trust; None would trust any client's header (see PROXY_COUNT above).
    "NUM_PROXIES": PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("API_THROTTLE_TOKEN", default="20/min"),
        "user": env.str("API_THROTTLE_USER", default="6000/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# Seconds a worker keeps an API user (with permissions) in memory: a change made in another worker reaches it
# within that time, in the same worker at once (api/signals.py). 0 looks the user up on every request.
API_USER_CACHE_SECONDS = env.int("API_USER_CACHE_SECONDS", default=5)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Tokens carry a digest of the password hash: a new password ends every access and refresh token issued
    # before it (api/authentication.py, api/tokens.py); api/signals.py also blacklists the refresh tokens.
    "CHECK_REVOKE_TOKEN": True,
    # One use per refresh token, even under concurrent requests; 401 for a deleted or changed user.
    "TOKEN_REFRESH_SERIALIZER": "api.tokens.TokenRefreshSerializer",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Orders, clients and reports. The API is described in docs/api.md in the project's repository.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the drf-spectacular-sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # validatorUrl None: no badge from validator.swagger.io, which the CSP blocks (and which learns the schema URL).
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayOperationId": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "crm.models.Order.Status",
        "ReportPeriodEnum": "reports.models.Report.Period",
    },
}

# ---------------------------------------------------------------------------
# Import / export
# ---------------------------------------------------------------------------
# Formats, columns and validation live in crm/importexport/; the admin side in crm/admin/importexport.py.
IMPORT_EXPORT_USE_TRANSACTIONS = True  # the resources force it anyway: a file is imported whole or not at all
# The history (django-simple-history) records every imported change with its user and file; one admin
# LogEntry per row as well would add ~10 s to a 50,000-row import.
IMPORT_EXPORT_SKIP_ADMIN_LOG = env.bool("IMPORT_EXPORT_SKIP_ADMIN_LOG", default=True)
# Honoured by our formats (crm/importexport/formats.py), which prefix = + - @ cells with an apostrophe in CSV and XLSX.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
IMPORT_EXPORT_CHUNK_SIZE = 2000  # rows fetched per query by admin exports (queryset.iterator)
# CSV exports (admin and export_* commands): ";" and decimal commas, which Russian Excel opens as columns of
# numbers, or "," and decimal points (English Excel, scripts). Imports read both, whatever this says.
EXPORT_CSV_DELIMITER = env.str("EXPORT_CSV_DELIMITER", default=";")
if EXPORT_CSV_DELIMITER not in (";", ","):
    raise ImproperlyConfigured(f'EXPORT_CSV_DELIMITER must be ";" or ",", not {EXPORT_CSV_DELIMITER!r}.')
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Import limits (admin and import_* commands; crm/importexport/limits.py): a file past one is refused at once,
# before it is parsed. Blank rows count towards the rows; empty cells right of the limit are ignored.
IMPORT_MAX_FILE_MB = env.float("IMPORT_MAX_FILE_MB", default=50)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=250_000)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=50)
# XLSX is a zip: its parts may unpack to this much in all (and no part to over 100 times its packed size).
IMPORT_MAX_UNPACKED_MB = env.float("IMPORT_MAX_UNPACKED_MB", default=200)
# Admin uploads wait here for their confirmation ("" = <system temp dir>/crm-import-uploads), this long at most.
IMPORT_UPLOAD_DIR = env.str("IMPORT_UPLOAD_DIR", default="")
IMPORT_UPLOAD_MAX_AGE_MINUTES = env.int("IMPORT_UPLOAD_MAX_AGE_MINUTES", default=60)

# ---------------------------------------------------------------------------
# Background tasks (crm/jobs/): large imports run in a worker, not in the web request
# ---------------------------------------------------------------------------
# Django's tasks API (DEP 14). On Django 5.2 it is the django-tasks backport; on Django 6 the backend paths
# become django.tasks.backends.* and the worker stays django-tasks-db's db_worker.
# TASKS_BACKEND: "database" (default: the queue is a table of this database, run `manage.py run_worker`),
# "redis" (the queue is in Redis at TASKS_REDIS_URL, django-tasks-rq; the same `manage.py run_worker`),
# "immediate" (runs a job at once inside the request: tests, or no worker at all), "dummy" (enqueues, never runs).
TASKS_BACKEND = env.str("TASKS_BACKEND", default="database")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "redis": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "dummy": "django_tasks.backends.dummy.DummyBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, not {TASKS_BACKEND!r}.")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND]}}
# The Redis queue (TASKS_BACKEND=redis): django-rq's queue settings. A job may run for hours (an import is one
# transaction); rq's default limit of 3 minutes would kill a large import half-way (it would roll back).
TASKS_REDIS_URL = env.str("TASKS_REDIS_URL", default="redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": TASKS_REDIS_URL, "DEFAULT_TIMEOUT": 24 * 3600}}
if TASKS_BACKEND == "redis":
    INSTALLED_APPS.append("django_rq")  # the backend's system check asks for it
# An admin import confirmed with more data rows than this runs as a background job (0 = always).
IMPORT_BACKGROUND_ROWS = env.int("IMPORT_BACKGROUND_ROWS", default=5000)
# Private folder of the jobs' input files and progress ("" = <system temp dir>/crm-jobs).
JOBS_DIR = env.str("JOBS_DIR", default="")
# A finished job's file (a failed import's, kept for a retry) is deleted this many days after it ended.
JOBS_KEEP_DAYS = env.int("JOBS_KEEP_DAYS", default=7)
# An admin export of more rows than this is written by a background job, then downloaded from its page (0 = always).
EXPORT_BACKGROUND_ROWS = env.int("EXPORT_BACKGROUND_ROWS", default=50_000)
# A background export's file is deleted (by the worker's sweep) this many hours after the job ended.
EXPORT_KEEP_HOURS = env.int("EXPORT_KEEP_HOURS", default=24)
# Where background exports are kept: the "exports" storage below. By default a private folder (never under a
# public media URL; downloads go through a view that checks the job's owner). Any Django storage backend works,
# e.g. S3 with django-storages: EXPORT_STORAGE_BACKEND=storages.backends.s3.S3Storage and
# EXPORT_STORAGE_OPTIONS='{"bucket_name": "crm-exports", "default_acl": "private"}'.
EXPORT_STORAGE_BACKEND = env.str("EXPORT_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage")
EXPORT_STORAGE_OPTIONS = env.json("EXPORT_STORAGE_OPTIONS", default={})
# FileSystemStorage without a "location" option keeps them in <JOBS_DIR>/exports (crm.jobs.exports.export_storage).
STORAGES["exports"] = {"BACKEND": EXPORT_STORAGE_BACKEND, "OPTIONS": EXPORT_STORAGE_OPTIONS}

# ---------------------------------------------------------------------------
# E-mail: scheduled reports (reports/schedules.py) are sent by the workers through Django's e-mail backend
# ---------------------------------------------------------------------------
# "console" prints every message to the worker's output (the development default), "smtp" sends it; a dotted
# path names any other Django e-mail backend.
_EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
}
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="console" if DEBUG else "smtp")
if EMAIL_BACKEND in _EMAIL_BACKENDS:
    EMAIL_BACKEND = _EMAIL_BACKENDS[EMAIL_BACKEND]
elif "." not in EMAIL_BACKEND:
    raise ImproperlyConfigured(f"EMAIL_BACKEND must be smtp, console or a dotted path, not {EMAIL_BACKEND!r}.")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)  # STARTTLS, usually port 587
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)  # TLS from the start, usually port 465
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both.")
# Seconds before a silent mail server fails the send (Django waits for ever by default, holding the worker).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
if EMAIL_TIMEOUT <= 0:
    # 0 would make the socket non-blocking: every send would fail with an obscure error.
    raise ImproperlyConfigured("EMAIL_TIMEOUT must be a number of seconds above 0.")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm@localhost")

# ---------------------------------------------------------------------------
# Admin theme (django-unfold)
# ---------------------------------------------------------------------------
def _can(permission: str):
    """A sidebar permission callback: show the item only to users holding `permission`."""
    return lambda request: request.user.has_perm(permission)


UNFOLD = {
    "SITE_TITLE": _("CRM"),
    "SITE_HEADER": _("Orders & Clients CRM"),
    "SITE_SUBHEADER": _("Staff workspace"),
    "SITE_URL": "/admin/",
    "SITE_SYMBOL": "storefront",
    "SITE_ICON": lambda request: static("crm/icon.svg"),
    "SITE_FAVICONS": [{"rel": "icon", "sizes": "32x32", "type": "image/svg+xml", "href": lambda request: static("crm/icon.svg")}],
    "SHOW_LANGUAGES": True,
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "crm.admin.dashboard.dashboard_callback",
    # Ctrl+K: the matching menu items, then up to ten clients and ten orders from the domain's search, each only
    # for a user who may view them (crm.admin.palette). unfold's own model search would scan every admin unbounded.
    "COMMAND": {"search_models": False, "search_callback": "crm.admin.palette.command_search"},
    "BORDER_RADIUS": "8px",
    "COLORS": {
        # Indigo as the primary colour (Tailwind's indigo scale in OKLCH).
        "primary": {
            "50": "oklch(96.2% .018 272.314)",
            "100": "oklch(93% .034 272.788)",
            "200": "oklch(87% .065 274.039)",
            "300": "oklch(78.5% .115 274.713)",
            "400": "oklch(67.3% .182 276.935)",
            "500": "oklch(58.5% .233 277.117)",
            "600": "oklch(51.1% .262 276.966)",
            "700": "oklch(45.7% .24 277.023)",
            "800": "oklch(39.8% .195 277.366)",
            "900": "oklch(35.9% .144 278.697)",
            "950": "oklch(25.7% .09 281.288)",
        },
    },
    "SIDEBAR": {
        "show_search": False,
        "show_all_applications": False,
        "navigation": [
            {
                "title": _("Work"),
                "separator": False,
                "items": [
                    {"title": _("Dashboard"), "icon": "dashboard", "link": reverse_lazy("admin:index")},
                    {
                        "title": _("Clients"),
                        "icon": "group",
                        "link": reverse_lazy("admin:crm_client_changelist"),
                        "permission": _can("crm.view_client"),
                    },
                    {
                        "title": _("Orders"),
                        "icon": "shopping_cart",
                        "link": reverse_lazy("admin:crm_order_changelist"),
                        "permission": _can("crm.view_order"),
                    },
                    {
                        "title": _("Deleted orders"),
                        "icon": "restore_from_trash",
                        "link": reverse_lazy("admin:crm_historicalorder_changelist"),
                        "permission": _can("crm.view_historicalorder"),
                    },
                    {
                        "title": _("Jobs"),
                        "icon": "pending_actions",
                        "link": reverse_lazy("admin:jobs_job_changelist"),
                        "permission": lambda request: request.user.is_staff,
                    },
                    {
                        "title": _("Reports"),
                        "icon": "monitoring",
                        "link": reverse_lazy("admin:reports_report_changelist"),
                        "permission": _can("reports.view_report"),
                    },
                    {
                        "title": _("Scheduled reports"),
                        "icon": "schedule_send",
                        "link": reverse_lazy("admin:reports_reportschedule_changelist"),
                        "permission": _can("reports.view_reportschedule"),
                    },
                ],
            },
            {
                "title": _("Access"),
                "separator": True,
                "items": [
                    {
                        "title": _("Users"),
                        "icon": "person",
                        "link": reverse_lazy("admin:auth_user_changelist"),
                        "permission": _can("auth.view_user"),
                    },
                    {
                        "title": _("Groups"),
                        "icon": "shield_person",
                        "link": reverse_lazy("admin:auth_group_changelist"),
                        "permission": _can("auth.view_group"),
                    },
                ],
            },
        ],
    },
}
