"""The page where staff add an authenticator app: a QR code (and the secret to type in), then
a first code to confirm it; supervisors land here under STAFF_2FA_REQUIRED=1 without one."""

from __future__ import annotations

from django import forms
from django.contrib import auth, messages
from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from crm.signin import second_factor


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def setup_view(request: HttpRequest, site: AdminSite) -> HttpResponse:
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if request.method == "POST" and "sign_out" in request.POST:
        auth.logout(request)
        return HttpResponseRedirect(reverse("admin:login"))
    context = {
        **site.each_context(request),
        "title": "Two-factor sign-in",
        "required": second_factor.required_for(user),
        "next": _next(request),
    }
    device = second_factor.confirmed_device(user)
    if device is not None:
        if not second_factor.verified(user):
            # Signed in before the device was added: the code is asked at sign-in.
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return TemplateResponse(request, "admin/crm/second_factor.html", {**context, "on": True})
    pending = second_factor.pending_device(user)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        if second_factor.confirm(request, pending, form.cleaned_data["code"]):
            messages.success(request, "Two-factor sign-in is on: each sign-in now asks for a code.")
            return HttpResponseRedirect(context["next"])
        form.add_error("code", "That code is not right. Enter the code the app shows now.")
    context |= {
        "form": form,
        "qr_code": second_factor.qr_code(pending),
        "secret": second_factor.secret_text(pending),
        "otpauth_uri": pending.config_url,
    }
    return TemplateResponse(request, "admin/crm/second_factor.html", context)


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("admin:index")
