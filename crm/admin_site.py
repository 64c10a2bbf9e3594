"""The clinic's admin site: a front-desk index and the supervisor's dashboard.

Installed as the default site by `config.apps.ClinicAdminConfig`, so `admin.site` and
`@admin.register` everywhere (django-q2's included) use it. It sits outside the crm.admin
package on purpose: that package registers models on import, and Django builds the site
while the admin modules are being imported, so building it must not import them again.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver, path

from crm.api.roles import SUPERVISOR, roles_of


class CrmAdminSite(admin.AdminSite):
    site_header = "Patient engagement CRM"
    site_title = "Clinic CRM"
    index_title = "Front desk"
    index_template = "admin/crm/index.html"
    # The patient page and the dashboard need the width more than a list of tables does.
    enable_nav_sidebar = False

    def get_urls(self) -> list[URLResolver | URLPattern]:
        from crm.admin.dashboard import dashboard_view

        dashboard = path(
            "supervisor/", self.admin_view(dashboard_view), name="supervisor_dashboard"
        )
        return [dashboard, *super().get_urls()]

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        roles = roles_of(request.user)
        context["crm_front_desk"] = bool(roles)
        context["crm_supervisor"] = SUPERVISOR in roles
        return context
