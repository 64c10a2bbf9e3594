"""What the clinic's admin site adds to Django's for staff sign-in: the code field on the
login form, and the second factor in every permission check (crm.signin.second_factor)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from crm.signin import second_factor
from crm.signin.forms import StaffLoginForm
from crm.signin.views import setup_view


class SecondFactorSite(admin.AdminSite):
    login_form = StaffLoginForm
    login_template = "admin/crm/login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and second_factor.satisfied(request.user)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        response = super().login(request, extra_context)
        if second_factor.setup_required(request.user):
            target = request.POST.get("next") or request.GET.get("next") or ""
            query = "?" + urlencode({"next": target}) if target else ""
            return HttpResponseRedirect(reverse("admin:second_factor") + query)
        return response

    def get_urls(self) -> list[URLResolver | URLPattern]:
        # Not behind admin_view: a supervisor who must add a device has no permission yet.
        setup = path("second-factor/", self.second_factor_view, name="second_factor")
        return [setup, *super().get_urls()]

    @method_decorator(never_cache)
    @method_decorator(csrf_protect)
    def second_factor_view(self, request: HttpRequest) -> HttpResponse:
        return setup_view(request, self)
