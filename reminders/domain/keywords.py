"""What an inbound text asks for: keywords, satisfaction scores and stop requests; pure
functions of the message (the rules and their reasons: docs/texting.md)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from crm.domain.events import SmsIntent

OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO", "AYUDA"})
CONFIRM_KEYWORDS = frozenset({"C", "CONFIRM", "CONFIRMAR"})
RESCHEDULE_KEYWORDS = frozenset({"R", "RESCHEDULE", "REPROGRAMAR"})

_KEYWORDS: dict[str, SmsIntent] = {
    **dict.fromkeys(OPT_OUT_KEYWORDS, SmsIntent.OPT_OUT),
    **dict.fromkeys(OPT_IN_KEYWORDS, SmsIntent.OPT_IN),
    **dict.fromkeys(HELP_KEYWORDS, SmsIntent.HELP),
    **dict.fromkeys(CONFIRM_KEYWORDS, SmsIntent.CONFIRM),
    **dict.fromkeys(RESCHEDULE_KEYWORDS, SmsIntent.RESCHEDULE),
}

# Punctuation and symbols around a keyword that do not change what it says.
_EDGES = " \t\r\n.,;:!?¡¿\"'()[]*-_~`"


@dataclass(frozen=True, slots=True)
class Reading:
    intent: SmsIntent
    keyword: str = ""  # the keyword as we matched it ("STOP"), for opt-out records
    score: int | None = None  # 1-5, for a satisfaction reply


def read_message(body: str, *, satisfaction_expected: bool = False) -> Reading:
    """What `body` asks for. A bare 1-5 is a score only after a satisfaction text."""
    word = keyword_form(body)
    intent = _KEYWORDS.get(word)
    if intent is not None:
        return Reading(intent, keyword=word)
    if word in {"1", "2", "3", "4", "5"}:
        if satisfaction_expected:
            return Reading(SmsIntent.SATISFACTION, score=int(word))
        return Reading(SmsIntent.FREE_TEXT)
    if asks_to_stop(body):
        return Reading(SmsIntent.STOP_REQUEST)
    return Reading(SmsIntent.FREE_TEXT)


def keyword_form(body: str) -> str:
    """The message as a keyword candidate: "  Stop. " -> "STOP", "opt-out" -> "OPTOUT"."""
    text = _plain(body).strip(_EDGES)
    if len(text) > 20:
        return ""
    return re.sub(r"[\s\-]+", "", text).upper()


def _plain(text: str) -> str:
    """Casefolded, accents removed, curly apostrophes straightened, spaces collapsed."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


# --- free text that asks us to stop ----------------------------------------------------------

_NEGATION = r"(?:don'?t|do not|never|not|no|please don'?t|pls don'?t|no dejen?|no dejes)"
_TEXTS = r"(?:texts?|txts?|messages?|msgs?|sms|reminders?|notifications?|alerts?)"
_SEND = r"(?:text(?:ing)?|txt(?:ing)?|messag(?:e|ing)|send(?:ing)?|contact(?:ing)?|sms(?:ing)?)"
_CLAUSE_START = r"(?:^|[.!?,;:]\s*|\b(?:please|pls|plz|just|and|but|so|ok|okay|hi|hello)\s+)"

_ENGLISH = [
    # "stop texting me", "please stop sending these", "stop the reminders"
    rf"\bstop(?:ped)?\s+(?:{_SEND}|(?:the|these|those|your|all|all the|all these|any)\s+{_TEXTS})",
    # "stop", "stop it", "please stop now" as the whole message (the bare word is a keyword)
    r"^(?:please |pls |plz )?stop(?: it| now| please| pls| plz| thanks| thank you)+$",
    r"^(?:please|pls|plz) stop$",
    # "Stop. Who is this?", "STOP!!! wrong person": a sentence of its own
    r"(?:^|[.!?]\s*)(?:please\s+)?stop(?:\s+(?:it|now|please))*\s*(?:[.!?]|$)",
    # "don't text me", "please do not contact me", "never message this number again"
    rf"{_CLAUSE_START}(?:don'?t|do not|never)\s+(?:ever\s+)?{_SEND}\s+(?:me|us|this number|here)\b",
    # "no more texts", "no more reminders please"
    rf"\bno more\s+(?:of\s+)?(?:these\s+|your\s+|the\s+)?{_TEXTS}",
    # "I don't want these texts anymore", "i do not want any more messages"
    rf"\b(?:don'?t|do not)\s+want\s+(?:any\s*more\s+|these\s+|your\s+|the\s+|any\s+)?{_TEXTS}",
    rf"\b(?:don'?t|do not)\s+want\s+to\s+(?:get|receive)\s+"
    rf"(?:any\s*more\s+|these\s+|your\s+)?{_TEXTS}",
    # "I want to stop getting these", "I'd like to stop receiving reminders"
    rf"\bstop\s+(?:getting|receiving)\s+(?:any\s+|these\s+|your\s+|the\s+)?{_TEXTS}",
    r"\bstop\s+(?:getting|receiving)\s+(?:these|them)\b",
    # "unsubscribe me", "opt me out", "take me off your list", "remove me from the list"
    r"\bunsubscribe\b",
    r"\bopt(?:\s+me)?\s*-?\s*out\b",
    r"\b(?:take|remove)\s+(?:me|this number|my number)\s+(?:off|from)\b",
    # "leave me alone", "wrong number": texts must not go on to a stranger
    r"\bleave me alone\b",
    r"\bwrong (?:number|person)\b",
    r"\bnot (?:the right|this) person\b",
]

_SPANISH = [
    # "no me envíen más mensajes", "ya no me manden mensajes", "no me escriban"
    r"\bno me (?:envien|envie|envies|manden|mande|mandes|escriban|escriba|escribas"
    r"|texteen|textee|contacten|contacte|sigan enviando|sigan mandando)\b",
    # "dejen de enviarme mensajes", "deja de mandarme"
    r"\b(?:dejen|deje|deja|dejar) de (?:enviar|mandar|escribir|textear|contactar)",
    # "no quiero (recibir) más mensajes"
    r"\bno quiero (?:recibir |mas |recibir mas )?(?:mas )?(?:mensajes|textos|recordatorios|sms)",
    r"\bno mas (?:mensajes|textos|recordatorios|sms)\b",
    r"^(?:por favor )?(?:basta|alto|para|pare|paren|parar|baja|darme de baja)"
    r"(?: por favor| ya)?$",
    r"\bdar(?:me)? de baja\b",
    r"\bnumero equivocado\b",
]

_STOP_PATTERNS = [re.compile(p) for p in _ENGLISH + _SPANISH]
# "don't stop the reminders", "no dejen de enviar": asks for the opposite.
_NEGATED_STOP = re.compile(
    rf"\b{_NEGATION}\s+(?:want\s+(?:you\s+)?to\s+|you\s+)?(?:stop|dejen de|deje de)\b"
)
_KEEP_SENDING = re.compile(
    rf"\b(?:keep|continue|please keep)\s+(?:{_SEND}|sending)\b"
    r"|\bsigan (?:enviando|mandando)\b(?!.*\bno\b)"
)


def asks_to_stop(body: str) -> bool:
    """Does free text ask us to stop texting this number?"""
    text = _plain(body)
    if not text:
        return False
    if not any(pattern.search(text) for pattern in _STOP_PATTERNS):
        return False
    # A message that only asks for the opposite ("don't stop the reminders") is no
    # request to stop; one that says both is read as a stop request.
    negated = _NEGATED_STOP.search(text) is not None or _KEEP_SENDING.search(text) is not None
    if negated:
        stripped = _NEGATED_STOP.sub(" ", text)
        stripped = _KEEP_SENDING.sub(" ", stripped)
        return any(pattern.search(stripped) for pattern in _STOP_PATTERNS)
    return True
