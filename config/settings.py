"""Settings, all read from the environment (see README.md, "Configuration")."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.database import database_from_url
from config.env import env_bool, env_int, env_list, env_region, env_str, env_timezone

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", default=False)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdef"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else None)
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("SECRET_KEY must be set to a secret value when DEBUG is off.")
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])

TIME_ZONE = env_timezone("TIME_ZONE", "America/New_York")
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True

PHONE_DEFAULT_REGION = env_region("PHONE_DEFAULT_REGION", "US")

INSTALLED_APPS = [
    "config.apps.ClinicAdminConfig",  # django.contrib.admin with the clinic's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_filters",
    "crm",
    "engagement",
    "reminders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
    "default": database_from_url(
        os.environ.get("DATABASE_URL"), default_sqlite=VAR_DIR / "crm.sqlite3"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# How many events a catch-up projection takes per transaction.
PROJECTION_BATCH_SIZE = env_int("PROJECTION_BATCH_SIZE", 500, minimum=1)

REDIS_URL = os.environ.get("REDIS_URL", "")
Q_CLUSTER: dict[str, object] = {
    "name": "crm",
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": 60,
    "retry": 120,
    "max_attempts": 1,
    "catch_up": False,
    "label": "Jobs",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- The agent desktop REST API (crm/api, docs/api.md) -----------------------------------

# Bodies above this size are refused with 413 before they are parsed. A 10,000-character
# note is the largest thing a desktop sends; even written as JSON escapes it stays below.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024, minimum=1024)

REST_FRAMEWORK = {
    # Token first: its "WWW-Authenticate: Token" makes anonymous requests 401, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm.api.permissions.IsClinicStaff"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["crm.api.parsers.JSONBodyParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["crm.api.throttling.PerUserThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env_str("API_THROTTLE_RATE", "300/minute")},
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.PatientPagination",
    "DEFAULT_SCHEMA_CLASS": "crm.api.schema.ApiSchema",
    "DEFAULT_METADATA_CLASS": None,
    "EXCEPTION_HANDLER": "crm.api.problems.exception_handler",
    "NON_FIELD_ERRORS_KEY": "body",
    "URL_FORMAT_OVERRIDE": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Patient engagement CRM: agent desktop API",
    "DESCRIPTION": (
        "Screen pop by caller number, patient profile and timeline, and the commands an agent "
        "runs during a call. Errors are application/problem+json (RFC 9457). See docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for a choice set used under several field names (channel, via).
    "ENUM_NAME_OVERRIDES": {"ChannelEnum": "crm.domain.events.catalogue.Channel"},
}

# --- The supervisor dashboard's figures (crm/selectors/metrics.py) ------------------------
# Both are applied when the figures are read, so changing one needs no projection rebuild.

# First-contact resolution: a handled contact counts as resolved when the patient makes no
# further contact on the same reason within this many days.
METRICS_FCR_REPEAT_DAYS = env_int("METRICS_FCR_REPEAT_DAYS", 7, minimum=1)
# Abandonment leaves out callers who hung up in the queue sooner than this (misdials,
# callers who meant another number): they never had a chance to reach an agent.
METRICS_SHORT_ABANDON_SECONDS = env_int("METRICS_SHORT_ABANDON_SECONDS", 5, minimum=0)

# --- Next-best actions (engagement/): thresholds of the suggestion rules ------------------

# --- SMS reminders and two-way texting (reminders/) ----------------------------------------
