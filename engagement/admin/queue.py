"""The clerk's worklist: the suggestion queue in the API's order, filtered by kind and status;
a suggestion's page works it through the handlers the API runs."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import ShowFacets
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from crm.admin import formatting as fmt
from crm.admin.access import AccessNote, Area, audit_access
from crm.admin.patient_page import badges
from crm.admin.patients import ALREADY_SENT
from crm.models import AccessAction, PatientProfile
from crm.roles import actor_for
from engagement.admin.forms import GONE, SUGGESTION_ACTIONS, SuggestionForm
from engagement.admin.win_back import win_back_csv
from engagement.domain.suggestions import LABEL, Kind, Status
from engagement.models import Suggestion
from engagement.projection import row as as_row
from engagement.screens import status_words
from engagement.selectors import (
    ACTIONABLE,
    QUEUE_ORDER,
    current,
    in_queue_order,
    status_at,
    survivor_of,
    with_status,
)

TEMPLATES = "admin/engagement/suggestion"
EVERY_STATUS = "all"
STATUS_WORDS = {
    Status.OPEN.value: "Open",
    Status.CLAIMED.value: "Being handled",
    Status.SNOOZED.value: "Put off",
    Status.DONE.value: "Done",
    Status.DISMISSED.value: "Dismissed",
    Status.EXPIRED.value: "No longer needed",
}


class KindFilter(admin.SimpleListFilter):
    title = "what to do"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(kind.value, LABEL[kind]) for kind in Kind]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Suggestion]) -> Any:
        return queryset.filter(kind=self.value()) if self.value() else queryset


class StatusFilter(admin.SimpleListFilter):
    """As the API's `status`: read at this moment (a claim or a snooze that ran out is open
    again), and the work still to do (open or being handled) when none is picked."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*STATUS_WORDS.items(), (EVERY_STATUS, "Any status")]

    def choices(self, changelist: ChangeList) -> Any:
        for choice in super().choices(changelist):
            if choice["query_string"] == changelist.get_query_string(remove=[self.parameter_name]):
                choice["display"] = "To do (open or being handled)"
            yield choice

    def queryset(self, request: HttpRequest, queryset: QuerySet[Suggestion]) -> Any:
        value = self.value()
        if value == EVERY_STATUS:
            return queryset
        return with_status(queryset, [value] if value else ACTIONABLE, timezone.now())


class WorkQueueChangeList(ChangeList):
    """Each row with its patient's record (one query for the page) and its status now."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        shown: list[Suggestion] = list(self.result_list)
        self.result_list = shown
        ids = {row.patient_id for row in shown}
        profiles = {p.patient_id: p for p in PatientProfile.objects.filter(patient_id__in=ids)}
        now = timezone.now()
        for row in shown:
            row.crm_profile = profiles.get(row.patient_id)  # type: ignore[attr-defined]
            row.crm_status = status_at(row, now)  # type: ignore[attr-defined]


@admin.register(Suggestion)
class WorkQueueAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The worklist: read by everyone who opens patients (as the API's queue), changed only
    by the engagement handlers, from each suggestion's page.

    The list reads the queue's read model, as the API does; a suggestion's own page reads
    the patient's log, so what the clerk just did reads back at once, before the queue
    catches up. Every page is in the access audit: the list through the site's guard (one
    row per patient shown), a suggestion's page and each command like the patient page's.
    """

    area = Area.PATIENTS
    patient_field = "patient_id"
    list_outcome = "queue_listed"  # the API's word for a patient listed in the queue
    list_display = ["what", "patient", "reason", "due", "where_it_stands"]
    list_display_links = None
    list_filter = [KindFilter, StatusFilter]
    ordering = QUEUE_ORDER
    sortable_by = ()  # the queue has one order: the API's
    show_facets = ShowFacets.NEVER
    list_per_page = 25
    show_full_result_count = False
    actions = None
    change_list_template = f"{TEMPLATES}/change_list.html"

    # Rows change only through the handlers, from the suggestion's page.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- the list ---------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Suggestion]:
        return in_queue_order(super().get_queryset(request))

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return WorkQueueChangeList

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {"title": "Work queue", **(extra_context or {})}
        return super().changelist_view(request, context)

    @admin.display(description="What to do")
    def what(self, row: Suggestion) -> SafeString:
        return format_html('<a href="{}">{}</a>', _page_url(row.suggestion_id), _label(row.kind))

    @admin.display(description="Patient")
    def patient(self, row: Suggestion) -> SafeString:
        profile: PatientProfile | None = getattr(row, "crm_profile", None)
        name = profile.display_name if profile else "Patient record"
        return format_html('<a href="{}">{}</a>', _patient_url(row.patient_id), name)

    @admin.display(description="Why")
    def reason(self, row: Suggestion) -> str:
        return row.reason

    @admin.display(description="Due")
    def due(self, row: Suggestion) -> str:
        profile: PatientProfile | None = getattr(row, "crm_profile", None)
        return fmt.moment(row.due_at, profile.timezone if profile else "")

    @admin.display(description="Where it stands")
    def where_it_stands(self, row: Suggestion) -> str:
        profile: PatientProfile | None = getattr(row, "crm_profile", None)
        status = getattr(row, "crm_status", row.status)
        return status_words(row, status, profile.timezone if profile else "")

    # --- one suggestion: its page and its commands -------------------------------------

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        custom = [
            path("win-back.csv", wrap(win_back_csv), name="engagement_suggestion_win_back"),
            path(
                "<path:object_id>/do/<slug:action>/",
                wrap(self.action_view),
                name="engagement_suggestion_action",
            ),
        ]
        return [*custom, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        # get_object is the guard's: it audits the patient this page shows.
        row = self.get_object(request, unquote(object_id))
        if row is None:
            raise Http404("No such suggestion.")
        return self._page(request, row, failed=None)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # A suggestion's history is on its patient's timeline, not in the admin's change log.
        return HttpResponseRedirect(_page_url(unquote(object_id)))

    def action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        form_class = SUGGESTION_ACTIONS.get(action)
        if form_class is None:
            raise Http404("No such action.")
        if not self.has_view_permission(request):
            raise PermissionDenied
        suggestion_id = unquote(object_id)
        if request.method != "POST":
            return HttpResponseRedirect(_page_url(suggestion_id))
        row = Suggestion.objects.filter(suggestion_id=suggestion_id).first()
        if row is None:
            raise Http404("No such suggestion.")
        patient_id = survivor_of(row.patient_id)
        now = timezone.now()
        found = current(suggestion_id, patient_id, now)
        if found is None:
            audit_access(
                request,
                [AccessNote(patient_id, "not_found")],
                action=AccessAction.CHANGE,
                status_code=404,
            )
            messages.warning(request, GONE)
            return HttpResponseRedirect(reverse("admin:engagement_suggestion_changelist"))
        form = form_class(
            request.POST, suggestion=found, patient_id=patient_id, user=request.user, now=now
        )
        result = form.run(actor_for(request.user, channel="admin"))
        outcome, status = form.failure or (
            "replayed" if result is not None and result.duplicate else "changed",
            200,
        )
        audit_access(
            request,
            [AccessNote(patient_id, outcome)],
            action=AccessAction.CHANGE,
            status_code=status,
        )
        if result is None:
            return self._page(request, row, failed=form)  # with this form's errors
        if result.duplicate:
            messages.warning(request, ALREADY_SENT)
        else:
            messages.success(request, form.success_message(result))
        return HttpResponseRedirect(_page_url(suggestion_id))

    def _page(
        self, request: HttpRequest, row: Suggestion, failed: SuggestionForm | None
    ) -> TemplateResponse:
        patient_id = survivor_of(row.patient_id)
        profile = PatientProfile.objects.filter(patient_id=patient_id).first()
        now = timezone.now()
        found = current(row.suggestion_id, patient_id, now)
        zone_name = profile.timezone if profile else ""
        forms: list[SuggestionForm] = []
        if found is not None:
            for slug, form_class in SUGGESTION_ACTIONS.items():
                if failed is not None and failed.slug == slug:
                    forms.append(failed)
                elif form_class.offered(found, request.user):
                    forms.append(
                        form_class(
                            suggestion=found, patient_id=patient_id, user=request.user, now=now
                        )
                    )
        # Read from the log in the queue's shape (never saved), so its page words it as the
        # list and the patient page do.
        shown = as_row(found, now) if found is not None else row
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _label(row.kind),
            "suggestion": shown,
            "due": fmt.moment(shown.due_at, zone_name),
            "where_it_stands": status_words(shown, status_at(shown, now), zone_name),
            "gone": found is None,
            "forms": [
                (
                    form,
                    reverse("admin:engagement_suggestion_action", args=[quote(row.pk), form.slug]),
                )
                for form in forms
            ],
            "profile": profile,
            "patient_url": _patient_url(patient_id),
            "patient_badges": badges(profile) if profile else [],
            "patient_phone": fmt.phone(profile.phone) if profile else "",
        }
        return TemplateResponse(request, f"{TEMPLATES}/work.html", context)


def _label(kind: str) -> str:
    try:
        return LABEL[Kind(kind)]
    except ValueError:
        return kind.replace("_", " ")


def _page_url(suggestion_id: str) -> str:
    return reverse("admin:engagement_suggestion_change", args=[quote(suggestion_id)])


def _patient_url(patient_id: uuid.UUID) -> str:
    return reverse("admin:crm_patientprofile_change", args=[patient_id])
