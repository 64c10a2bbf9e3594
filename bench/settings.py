"""Settings for the API benchmark's gunicorn: the product's, plus the bare view's URLconf,
so the bare view and the lookup are served by the very same stack."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare_urls"
