"""URL routes."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from crm import probes
from crm.api.views.fallback import EndpointNotFoundApi

urlpatterns = [
    path("healthz", probes.healthz, name="healthz"),
    path("readyz", probes.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("crm.api.urls")),
    path("api/v1/", include("engagement.api.urls")),
    path("api/v1/", include("reminders.api.urls")),
    path("webhooks/sms/", include("reminders.webhooks.urls")),
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
    # Last: anything else under /api/ is a problem+json 404 (401 without credentials).
    re_path(r"^api/", EndpointNotFoundApi.as_view()),
]

handler400 = "crm.api.problems.bad_request"
handler500 = "crm.api.problems.server_error"
