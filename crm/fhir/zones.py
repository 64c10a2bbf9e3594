"""An address's time zone, for a patient whose phone number names none: the zone most of a
US state's people live in (split states take their larger part; the desk can correct it)."""

from __future__ import annotations

_EASTERN, _CENTRAL = "America/New_York", "America/Chicago"
_MOUNTAIN, _PACIFIC = "America/Denver", "America/Los_Angeles"

_BY_STATE = {
    "AL": _CENTRAL, "AK": "America/Anchorage", "AZ": "America/Phoenix", "AR": _CENTRAL,
    "CA": _PACIFIC, "CO": _MOUNTAIN, "CT": _EASTERN, "DE": _EASTERN, "DC": _EASTERN,
    "FL": _EASTERN, "GA": _EASTERN, "HI": "Pacific/Honolulu", "ID": "America/Boise",
    "IL": _CENTRAL, "IN": "America/Indiana/Indianapolis", "IA": _CENTRAL, "KS": _CENTRAL,
    "KY": _EASTERN, "LA": _CENTRAL, "ME": _EASTERN, "MD": _EASTERN, "MA": _EASTERN,
    "MI": "America/Detroit", "MN": _CENTRAL, "MS": _CENTRAL, "MO": _CENTRAL,
    "MT": _MOUNTAIN, "NE": _CENTRAL, "NV": _PACIFIC, "NH": _EASTERN, "NJ": _EASTERN,
    "NM": _MOUNTAIN, "NY": _EASTERN, "NC": _EASTERN, "ND": _CENTRAL, "OH": _EASTERN,
    "OK": _CENTRAL, "OR": _PACIFIC, "PA": _EASTERN, "RI": _EASTERN, "SC": _EASTERN,
    "SD": _CENTRAL, "TN": _CENTRAL, "TX": _CENTRAL, "UT": _MOUNTAIN, "VT": _EASTERN,
    "VA": _EASTERN, "WA": _PACIFIC, "WV": _EASTERN, "WI": _CENTRAL, "WY": _MOUNTAIN,
    "PR": "America/Puerto_Rico", "VI": "America/St_Thomas", "GU": "Pacific/Guam",
    "AS": "Pacific/Pago_Pago", "MP": "Pacific/Saipan",
}  # fmt: skip
_NAMES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL",
    "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI",
    "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ",
    "new mexico": "NM", "new york": "NY", "north carolina": "NC", "north dakota": "ND",
    "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "rhode island": "RI", "south carolina": "SC", "south dakota": "SD", "tennessee": "TN",
    "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR",
}  # fmt: skip
_US = {"", "us", "usa", "united states", "united states of america"}


def zone_for_address(state: str | None, country: str | None) -> str:
    """The IANA zone for a US state (code or name), or "" when the address names none."""
    if (country or "").strip().lower().rstrip(".") not in _US:
        return ""
    text = (state or "").strip()
    code = _NAMES.get(text.lower(), text.upper())
    return _BY_STATE.get(code, "")
