"""What a text may say where anyone can read the phone: no clinical word, and a location or
provider only by the SMS-safe alias the clinic set for it. Plain Python, no Django."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["LOCATION", "PROVIDER", "SafeNames", "clinical_words", "name_key", "raw_names_in"]

LOCATION = "location"
PROVIDER = "provider"

# Word beginnings (English and Spanish) that reveal care a patient may keep private: a
# lock-screen preview of "Riverside Behavioral Health" tells whoever holds the phone.
_STEMS = (
    "psychiatr", "psiquiatr", "psycholog", "psicolog", "psychother", "therap", "terap",
    "behavio", "conductual", "mental", "counsel", "consejer", "crisis", "suicid",
    "depress", "depresi", "anxiety", "ansiedad", "bipolar", "schizo", "esquizo", "trauma",
    "addict", "adicci", "substance", "sustancia", "detox", "rehab", "methadone", "metadona",
    "opioid", "opioide", "alcohol", "diagnos", "diagnós", "medication", "medicament",
    "prescription", "oncolog", "cancer", "cáncer", "chemo", "quimio", "pregnan", "embaraz",
    "abortion", "aborto", "fertility", "fertilidad", "dialysis", "diálisis", "disorder",
    "trastorno",
)  # fmt: skip
# Short words matched whole only ("STD" but not "standard").
_WORDS = ("hiv", "vih", "aids", "sida", "std", "sti", "ets", "ptsd", "tept", "adhd")
_CLINICAL = re.compile(
    r"\b(?:" + "|".join(re.escape(stem) for stem in _STEMS) + r")\w*"
    r"|\b(?:" + "|".join(_WORDS) + r")\b",
    re.IGNORECASE,
)


def clinical_words(text: str) -> list[str]:
    """The words of `text` that hint at clinical care, in order, each once."""
    return list(dict.fromkeys(match.group(0) for match in _CLINICAL.finditer(text)))


def name_key(name: str) -> str:
    """One spelling per name: 'Main St  Clinic' and 'main st clinic' are the same place."""
    return " ".join(name.casefold().split())


@dataclass(frozen=True, slots=True)
class SafeNames:
    """The clinic's aliases: (kind, name_key(raw name)) -> what a text may call it."""

    aliases: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # Raw names as typed, for finding them inside a template.
    raw: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Iterable[tuple[str, str, str]]) -> SafeNames:
        """From (kind, raw name, alias) rows."""
        aliases: dict[tuple[str, str], str] = {}
        raw: dict[tuple[str, str], str] = {}
        for kind, name, alias in rows:
            # The admin's form refuses such an alias; one stored past it (a script, an
            # import, a stem added since) names nothing, and the raw name stays unsafe.
            safe = alias.strip() if not clinical_words(alias) else ""
            aliases[(kind, name_key(name))] = safe
            raw[(kind, name_key(name))] = name
        return cls(aliases, raw)

    def alias(self, kind: str, name: str) -> str | None:
        """What a text may call `name`; None when the clinic set no alias (say nothing)."""
        return self.aliases.get((kind, name_key(name))) or None

    def unsafe_names(self) -> list[str]:
        """Raw names a text must never carry as typed: those whose alias differs."""
        return sorted(
            name for key, name in self.raw.items() if name_key(self.aliases.get(key, "")) != key[1]
        )


def raw_names_in(text: str, names: SafeNames) -> list[str]:
    """The raw location and provider names written out in `text` (whole words, any case)."""
    flat = name_key(text)
    return [
        name
        for name in names.unsafe_names()
        if re.search(r"(?<!\w)" + re.escape(name_key(name)) + r"(?!\w)", flat)
    ]
