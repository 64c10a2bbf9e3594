"""API tokens in the admin, for supervisors only: who holds a key, since when and until
when, never the key itself; revoking one is logged with who did it (crm.api.tokens)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from rest_framework.authtoken.models import TokenProxy

from crm.admin.access import is_supervisor
from crm.api import tokens
from crm.api.roles import role_label

TEMPLATES = "admin/crm/tokens"
RECENT_REVOCATIONS = 20


class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The list of keys and a revoke page per key. TokenProxy's primary key in the admin is
    its user's id, so neither a link nor a checkbox ever carries the key into the page."""

    list_display = ["user", "roles", "key_start", "created", "expires", "status", "revoke"]
    list_display_links = None
    list_select_related = ["user"]
    search_fields = ["user__username"]
    search_help_text = "Username"
    ordering = ["user__username"]
    actions = None
    change_list_template = f"{TEMPLATES}/change_list.html"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_supervisor(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_supervisor(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are issued by create_api_token, which shows the key once

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoking goes through revoke_view, which audits it

    def get_queryset(self, request: HttpRequest) -> QuerySet[TokenProxy]:
        return super().get_queryset(request).prefetch_related("user__groups")

    def get_urls(self) -> list[URLPattern]:
        revoke = path(
            "<int:user_id>/revoke/",
            self.admin_site.admin_view(self.revoke_view),
            name="authtoken_tokenproxy_revoke",
        )
        return [revoke, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # Nothing to see beyond the list's row, and the generic form would show the key.
        return HttpResponseRedirect(reverse("admin:authtoken_tokenproxy_changelist"))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        revoked = tokens.revocations().select_related("user")[:RECENT_REVOCATIONS]
        context = {"revocations": revoked, "ttl_hours": settings.API_TOKEN_TTL_HOURS}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    @admin.display(description="roles")
    def roles(self, obj: TokenProxy) -> str:
        return role_label(obj.user) or "none (the API answers 403)"

    @admin.display(description="key")
    def key_start(self, obj: TokenProxy) -> str:
        return tokens.masked(obj.key)

    @admin.display(description="expires")
    def expires(self, obj: TokenProxy) -> Any:
        return tokens.expires_at(obj)

    @admin.display(description="status")
    def status(self, obj: TokenProxy) -> str:
        return "expired" if tokens.is_expired(obj, now=timezone.now()) else "active"

    @admin.display(description="")
    def revoke(self, obj: TokenProxy) -> SafeString:
        url = reverse("admin:authtoken_tokenproxy_revoke", args=[obj.user_id])
        return format_html('<a class="button" href="{}">Revoke</a>', url)

    def revoke_view(self, request: HttpRequest, user_id: int) -> HttpResponse:
        if not is_supervisor(request.user):
            raise PermissionDenied
        token = TokenProxy.objects.select_related("user").filter(user_id=user_id).first()
        if token is None:
            raise Http404("This user holds no API token (it may have been revoked already).")
        if request.method == "POST":
            description = tokens.revoke(token, by=request.user)  # type: ignore[arg-type]
            messages.success(request, f"{description} revoked: the desktop using it gets 401.")
            return HttpResponseRedirect(reverse("admin:authtoken_tokenproxy_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Revoke an API token",
            "description": tokens.describe(token),
            "token": token,
            "roles": role_label(token.user),
        }
        return TemplateResponse(request, f"{TEMPLATES}/revoke.html", context)


def register() -> None:
    """Take the place of DRF's token admin, which lists every key in full."""
    if admin.site.is_registered(TokenProxy):
        admin.site.unregister(TokenProxy)
    admin.site.register(TokenProxy, ApiTokenAdmin)
