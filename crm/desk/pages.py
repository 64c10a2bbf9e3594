"""The reference agent desktop page: signed in through the admin's sign-in (password and second
factor), it then speaks only to the public REST API and the desk's event stream."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from crm.domain import events as ev
from crm.domain.vocabulary import label
from crm.roles import Area, may
from crm.signin import second_factor


@never_cache
@ensure_csrf_cookie
@require_safe
def desk(request: HttpRequest) -> HttpResponse:
    """The page itself holds no patient data: what it shows arrives through the API, which
    checks and audits each read on its own."""
    here = reverse("desk")
    user = request.user
    if second_factor.setup_required(user):
        query = urlencode({"next": here})
        return HttpResponseRedirect(f"{reverse('admin:second_factor')}?{query}")
    if not (user.is_authenticated and user.is_active and second_factor.satisfied(user)):
        # Only the page's own path goes along: nothing of a visitor's query string.
        return redirect_to_login(here, reverse("admin:login"))
    if not may(user, Area.PATIENTS):
        refused = {"username": user.get_username()}
        return render(request, "desk/no_role.html", refused, status=403)
    context: dict[str, object] = {
        "username": user.get_username(),
        "crisis_line": settings.CRISIS_LINE,
        "clinic_zone": settings.TIME_ZONE,
        "appointment_types": [(t.value, _capital(label(t))) for t in ev.AppointmentType],
        "modalities": [(m.value, _capital(label(m))) for m in ev.Modality],
    }
    return render(request, "desk/desk.html", context)


def _capital(words: str) -> str:
    return words[:1].upper() + words[1:]
