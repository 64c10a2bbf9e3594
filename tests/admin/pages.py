"""Reading admin pages the way a person does, and filling in their forms."""

from __future__ import annotations

import html as entities
import re
import uuid
from typing import Any

from django.urls import reverse


def patient_url(patient_id: uuid.UUID) -> str:
    return reverse("admin:crm_patientprofile_change", args=[patient_id])


def action_url(patient_id: uuid.UUID, action: str) -> str:
    return reverse("admin:crm_patientprofile_action", args=[patient_id, action])


def form_fields(html: str, form_id: str = "action-form") -> dict[str, str]:
    """The values a browser would send for the form as drawn (hidden fields included)."""
    start = html.index(f'id="{form_id}"')
    form = html[start : html.index("</form>", start)]
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and "checkbox" not in tag:
            fields[name.group(1)] = value.group(1) if value else ""
    for select in re.finditer(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        option = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(2)) or re.search(
            r'<option value="([^"]*)"', select.group(2)
        )
        fields[select.group(1)] = option.group(1) if option else ""
    return fields


def text_of(response: Any) -> str:
    """The page as a person reads it: tags dropped, whitespace folded."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(entities.unescape(re.sub(r"<[^>]+>", " ", html)).split())
