"""URL routes."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from crm import probes
from crm.api.views.fallback import EndpointNotFoundApi

# ReDoc writes its styles inline as it renders (styled-components) and searches in a worker
# it makes from a blob: allowed on its page alone, whichever policy is in force.
_REDOC_STYLES = {"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]}
_redoc = SpectacularRedocView.as_view(url_name="api-schema", template_name="crm/api_redoc.html")
redoc = csp_update(_REDOC_STYLES)(csp_update(_REDOC_STYLES, REPORT_ONLY=True)(_redoc))

urlpatterns = [
    path("healthz", probes.healthz, name="healthz"),
    path("readyz", probes.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("crm.api.urls")),
    path("api/v1/", include("engagement.api.urls")),
    path("api/v1/", include("reminders.api.urls")),
    path("api/v1/desk/", include("crm.desk.urls")),
    path("api/v1/desk/", include("crm.voice.api_urls")),
    path("webhooks/sms/", include("reminders.webhooks.urls")),
    path("webhooks/voice/", include("crm.voice.urls")),
    path("desk/", include("crm.desk.page_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, and crm's page links its styles:
    # nothing inline for the CSP to refuse.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="crm/api_docs.html"
        ),
        name="api-docs",
    ),
    path("api/redoc/", redoc, name="api-redoc"),
    # Last: anything else under /api/ is a problem+json 404 (401 without credentials).
    re_path(r"^api/", EndpointNotFoundApi.as_view()),
]

handler400 = "crm.api.problems.bad_request"
handler500 = "crm.api.problems.server_error"
