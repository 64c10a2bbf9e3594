"""ASGI entry point for uvicorn: the desk's event streams (deploy/README.md), or everything."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)

from config.warmup import warm_up  # noqa: E402  (after setup)
from crm.desk.asgi import ClinicASGIHandler  # noqa: E402

application = ClinicASGIHandler()
warm_up()
