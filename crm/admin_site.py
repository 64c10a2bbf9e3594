"""The clinic's admin site: a front-desk index and the supervisor's dashboard."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.contrib import admin
from django.db.models import Model
from django.db.models.base import ModelBase
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path

from crm.admin_guard import GuardedAutocomplete, guarded
from crm.roles import Area, may
from crm.signin.site import SecondFactorSite

APP_NAMES = {"authtoken": "API tokens", "axes": "Sign-in records"}
TABLE_NAMES = {
    "axes.accessattempt": "Sign-in lockout counters",
    "axes.accessfailurelog": "Sign-in failures",
    "axes.accesslog": "Sign-ins",
    "crm.livecall": "Phone calls",
}


class CrmAdminSite(SecondFactorSite):
    """Installed as the default site by `config.apps.ClinicAdminConfig`, so `admin.site` and
    `@admin.register` everywhere (django-q2's included) use it. It sits outside crm.admin on
    purpose: that package registers models on import, and Django builds the site while the
    admin modules are being imported, so building it must not import them again."""

    site_header = "Patient engagement CRM"
    site_title = "Clinic CRM"
    index_title = "Front desk"
    index_template = "admin/crm/index.html"
    # The patient page and the dashboard need the width more than a list of tables does.
    enable_nav_sidebar = False
    # No public site stands behind the admin: no "View site" link to a page that is not there.
    site_url = None

    def get_urls(self) -> list[URLResolver | URLPattern]:
        from crm.admin.dashboard import dashboard_view

        dashboard = path(
            "supervisor/", self.admin_view(dashboard_view), name="supervisor_dashboard"
        )
        return [dashboard, *super().get_urls()]

    def register(
        self,
        model_or_iterable: type[Model] | Iterable[type[Model]],
        admin_class: type[admin.ModelAdmin[Any]] | None = None,
        **options: Any,
    ) -> None:
        """Every table, whoever registers it, obeys the access rule (crm.admin_guard)."""
        models = (
            [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else model_or_iterable
        )
        base = admin_class or admin.ModelAdmin
        if options:
            base = type(base.__name__, (base,), {"__module__": base.__module__, **options})
        for model in models:
            super().register(model, guarded(model, base))

    def autocomplete_view(self, request: HttpRequest) -> HttpResponse:
        return cast(HttpResponse, GuardedAutocomplete.as_view(admin_site=self)(request))

    def _build_app_dict(self, request: HttpRequest, label: Any = None) -> Any:
        """Tables of other packages under names that say what they hold (their models are
        not ours to rename): "Sign-ins", not axes' "Access logs" beside our access log."""
        built = super()._build_app_dict(request, label)
        for app in [built] if label else built.values():
            app["name"] = APP_NAMES.get(app["app_label"], app["name"])
            for table in app["models"]:
                table["name"] = TABLE_NAMES.get(table["model"]._meta.label_lower, table["name"])
        return built

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        context["crm_front_desk"] = may(request.user, Area.PATIENTS)
        context["crm_supervisor"] = may(request.user, Area.FIGURES)
        return context
