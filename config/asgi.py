"""ASGI entry point for uvicorn: the desk's event streams (deploy/README.md), or everything."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)

from crm.desk.asgi import ClinicASGIHandler  # noqa: E402  (after setup)

application = ClinicASGIHandler()
