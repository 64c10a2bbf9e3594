"""Settings for the test suite: the real settings with a throwaway secret key; DATABASE_URL
still decides the database (SQLite by default, PostgreSQL with postgres://...)."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")
# Production settings refuse to start without an explicit SMS backend; tests pick theirs.
os.environ.setdefault("SMS_BACKEND", "console")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The test client and the browser tests' live server speak plain HTTP, and collectstatic
# never runs: the production defaults for these are checked in tests/config instead.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True  # finds files as they are asked for: no var/static needed
