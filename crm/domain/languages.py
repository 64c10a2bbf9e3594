"""The languages the clinic records for a patient: stored as a code ("es"), shown by name
("Spanish") wherever a person reads it."""

from __future__ import annotations

# (code, name), in the order the forms offer them.
LANGUAGES: tuple[tuple[str, str], ...] = (
    ("en", "English"),
    ("es", "Spanish"),
    ("pt", "Portuguese"),
    ("ht", "Haitian Creole"),
    ("zh", "Chinese"),
    ("vi", "Vietnamese"),
    ("ru", "Russian"),
    ("ar", "Arabic"),
    ("fr", "French"),
)
_NAMES = dict(LANGUAGES)


def language_name(code: str) -> str:
    """ "Spanish" for "es"; a code this list does not know reads as stored."""
    return _NAMES.get(code, code)
