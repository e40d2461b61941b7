"""Django settings for infrastrand, read from the environment.

Development (the default) keeps everything under ``var/``: the SQLite database, a generated
``SECRET_KEY`` and a generated key for encrypting secrets at rest.  Production
(``INFRASTRAND_PRODUCTION=1``) requires ``SECRET_KEY``, ``INFRASTRAND_SECRETS_KEYS`` and
``ALLOWED_HOSTS`` and turns on every transport-security setting ``check --deploy`` asks for.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured

from inventory.tiles import tile_origin

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("INFRASTRAND_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean from the environment (1/0, true/false, yes/no, on/off)."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _kept_secret(filename: str, make) -> str:
    """A development secret generated once and kept under var/."""
    path = VAR_DIR / filename
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def _fernet_key() -> str:
    import base64

    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


PRODUCTION = env_bool("INFRASTRAND_PRODUCTION", False)
DEBUG = env_bool("DEBUG", not PRODUCTION)

if PRODUCTION:
    try:
        SECRET_KEY = os.environ["SECRET_KEY"]
        # Comma-separated Fernet keys; the first encrypts, all decrypt (rotation).
        SECRETS_KEYS = env_list("INFRASTRAND_SECRETS_KEYS", [])
    except KeyError as exc:
        raise ImproperlyConfigured(f"{exc.args[0]} must be set when INFRASTRAND_PRODUCTION=1") from exc
    if not SECRETS_KEYS:
        raise ImproperlyConfigured("INFRASTRAND_SECRETS_KEYS must be set when INFRASTRAND_PRODUCTION=1")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when INFRASTRAND_PRODUCTION=1")
else:
    SECRET_KEY = os.environ.get("SECRET_KEY") or _kept_secret("secret_key", lambda: secrets.token_urlsafe(50))
    SECRETS_KEYS = env_list("INFRASTRAND_SECRETS_KEYS", []) or [_kept_secret("secrets.key", _fernet_key)]
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tables2",
    "axes",
    "inventory",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "inventory.api.middleware.RequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "inventory.middleware.RequestContextMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "inventory.project.urls"
WSGI_APPLICATION = "inventory.project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'infrastrand.sqlite3'}",
        # Production keeps a worker's connection for a minute (health-checked before reuse).
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60" if PRODUCTION else "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
if not PRODUCTION:
    # WhiteNoise serves from the finders in development; an empty root keeps it from warning.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# A static file referenced by a template but missing from collectstatic's manifest is linked unhashed
# instead of failing the page with a 500.
WHITENOISE_MANIFEST_STRICT = False

# Login throttling (django-axes): 5 failed logins of one username from one address lock that pair out
# for 15 minutes (answer 429); a successful login resets the count. ``axes_reset`` unlocks early.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_VERBOSE = False  # no start-up banner on every manage.py command; lockouts are still logged

# Content-Security-Policy (django-csp): only this site's own scripts; inline style attributes allowed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF],
        "style-src": [csp_constants.SELF, csp_constants.UNSAFE_INLINE],
        "img-src": [csp_constants.SELF, "data:"],
        "font-src": [csp_constants.SELF, "data:"],
        "connect-src": [csp_constants.SELF],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.SELF],
        "form-action": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
    }
}

# Password reset mails: SMTP in production (EMAIL_HOST …), files under var/mail otherwise (the demo).
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = Path(os.environ.get("EMAIL_FILE_PATH", VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "infrastrand@localhost")
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Grafana base URL, used by the UI to link sites and devices to their dashboards.
GRAFANA_URL = os.environ.get("INFRASTRAND_GRAFANA_URL", "http://127.0.0.1:3000")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "inventory.api.authentication.TokenAuthentication",
        "inventory.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["inventory.api.permissions.TokenPermissions"],
    "DEFAULT_PAGINATION_CLASS": "inventory.api.pagination.OptionalLimitOffsetPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "inventory.api.ordering.ValueOrderingFilter",
    ],
    "ORDERING_PARAM": "ordering",
    "DEFAULT_PARSER_CLASSES": [
        "inventory.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "inventory.api.schema.InventoryAutoSchema",
    "EXCEPTION_HANDLER": "inventory.api.exceptions.exception_handler",
    "DEFAULT_METADATA_CLASS": "inventory.api.metadata.BulkOperationMetadata",
    "COERCE_DECIMAL_TO_STRING": False,
    "PAGE_SIZE": 50,
}

# The largest request body (API JSON, form fields) read into memory: a collector's batch of 500
# observations with their interfaces fits; bigger data sets go through an import (file upload).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(16 * 1024 * 1024)))

# /metrics answers without credentials only when this is on (else: a token that may view devices).
METRICS_PUBLIC = env_bool("INFRASTRAND_METRICS_PUBLIC", False)

SPECTACULAR_SETTINGS = {
    "TITLE": "infrastrand API",
    "DESCRIPTION": "NetBox-compatible inventory API for the shared digital infrastructure strand",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],  # the schema holds no data (as NetBox)
    "ENUM_NAME_OVERRIDES": {
        "SiteStatusEnum": "inventory.choices.SiteStatusChoices.CHOICES",
        "RackStatusEnum": "inventory.choices.RackStatusChoices.CHOICES",
        "DeviceStatusEnum": "inventory.choices.DeviceStatusChoices.CHOICES",
        "PrefixStatusEnum": "inventory.choices.PrefixStatusChoices.CHOICES",
        "IPAddressStatusEnum": "inventory.choices.IPAddressStatusChoices.CHOICES",
        "InterfaceTypeEnum": "inventory.choices.InterfaceTypeChoices.CHOICES",
        "CustomFieldTypeEnum": "inventory.choices.CustomFieldTypeChoices.CHOICES",
        "AlertStatusEnum": "inventory.choices.AlertStatusChoices.CHOICES",
        "SloScopeEnum": "inventory.models.slo.SloScope.OBJECTIVE_CHOICES",
        "MaintenanceScopeEnum": "inventory.models.slo.SloScope.MAINTENANCE_CHOICES",
        "CableStatusEnum": "inventory.choices.CableStatusChoices.CHOICES",
        "CableTypeEnum": "inventory.choices.CableTypeChoices.CHOICES",
    },
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Event log and alert history (issue 14): kept this many days, then removed by `manage.py purgeevents`.
EVENT_RETENTION_DAYS = int(os.environ.get("INFRASTRAND_EVENT_RETENTION_DAYS", "90"))

# Prometheus the device and interface pages query for their graphs and the strand report for availability
# (empty: no graphs, no report), and how long one range query may take before the page gives up on it.
PROMETHEUS_URL = os.environ.get("INFRASTRAND_PROMETHEUS_URL", "")
PROMETHEUS_TIMEOUT = float(os.environ.get("INFRASTRAND_PROMETHEUS_TIMEOUT", "3"))

# XYZ tile URL template for the site page's map (e.g. https://tile.example/{z}/{x}/{y}.png); empty: no
# map, coordinates and a link to openstreetmap.org. Its host is added to the CSP's img-src.
TILE_URL = os.environ.get("INFRASTRAND_TILE_URL", "")
if TILE_URL:
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(tile_origin(TILE_URL))

# Discovery (issue 15, contract 9): requests per second a collector may send for a sweep unless the job says
# otherwise, and how long a collector's claim on a job lasts without a results post renewing it.
DISCOVERY_RATE = float(os.environ.get("INFRASTRAND_DISCOVERY_RATE", "50"))
DISCOVERY_LEASE = float(os.environ.get("INFRASTRAND_DISCOVERY_LEASE", "60"))
