"""Settings for the test suite: the real settings, with a throwaway secret key.

DATABASE_URL still decides the database, so `make test` runs on SQLite and, with
DATABASE_URL=postgres://..., on PostgreSQL.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
