"""Reading inbound texts: keywords, scores and free-text stop requests (no database)."""

from __future__ import annotations

import pytest

from crm.domain.events import SmsIntent
from reminders.domain.keywords import asks_to_stop, read_message


@pytest.mark.parametrize(
    "body",
    ["STOP", "stop", " Stop ", "STOP.", "Stop!", "StopAll", "STOP ALL", "UNSUBSCRIBE",
     "unsubscribe", "CANCEL", "cancel", "End", "QUIT", "revoke", "OPTOUT", "opt-out",
     "Opt out", "\tquit\n"],
)  # fmt: skip
def test_every_opt_out_keyword_counts_in_any_case_with_spaces_around(body: str) -> None:
    assert read_message(body).intent is SmsIntent.OPT_OUT


def test_cancel_is_an_opt_out_never_a_cancellation() -> None:
    reading = read_message("CANCEL")
    assert reading.intent is SmsIntent.OPT_OUT
    assert reading.keyword == "CANCEL"


@pytest.mark.parametrize("body", ["START", "start", "Yes", "YES!", "unstop", " UNSTOP. "])
def test_start_yes_and_unstop_opt_back_in(body: str) -> None:
    assert read_message(body).intent is SmsIntent.OPT_IN


@pytest.mark.parametrize("body", ["HELP", "help", "Info", "INFO?", "ayuda"])
def test_help_and_info_ask_for_help(body: str) -> None:
    assert read_message(body).intent is SmsIntent.HELP


@pytest.mark.parametrize("body", ["C", "c", "c.", "CONFIRM", "Confirm!", "confirmar"])
def test_c_and_confirm_confirm(body: str) -> None:
    assert read_message(body).intent is SmsIntent.CONFIRM


@pytest.mark.parametrize("body", ["R", "r", "RESCHEDULE", "Reschedule", "reprogramar"])
def test_r_and_reschedule_ask_for_a_new_time(body: str) -> None:
    assert read_message(body).intent is SmsIntent.RESCHEDULE


@pytest.mark.parametrize("body,score", [("1", 1), ("5", 5), (" 4 ", 4), ("3.", 3)])
def test_a_bare_score_is_satisfaction_only_after_a_satisfaction_text(body: str, score: int) -> None:
    reading = read_message(body, satisfaction_expected=True)
    assert reading.intent is SmsIntent.SATISFACTION
    assert reading.score == score
    assert read_message(body, satisfaction_expected=False).intent is SmsIntent.FREE_TEXT


@pytest.mark.parametrize("body", ["0", "6", "10", "5 stars", "I'd say 4"])
def test_anything_but_a_bare_one_to_five_is_not_a_score(body: str) -> None:
    assert read_message(body, satisfaction_expected=True).intent is not SmsIntent.SATISFACTION


@pytest.mark.parametrize(
    "body",
    ["Stop texting me", "please stop texting me", "PLEASE STOP", "stop it", "Stop please",
     "Stop sending me these messages", "stop the reminders", "Don't text me anymore",
     "do not contact me", "Please don't message this number again", "no more messages",
     "No more texts please", "I don't want these texts anymore", "I want to stop getting these",
     "i would like to stop receiving reminders", "unsubscribe me", "opt me out",
     "Take me off your list", "remove me from the list", "leave me alone", "wrong number",
     "You have the wrong number, this isn\u2019t Rowan", "Don\u2019t text me, call me instead",
     "no me envíen más mensajes", "Ya no me manden mensajes", "no me escriban por favor",
     "Dejen de enviarme mensajes", "no quiero recibir más mensajes", "No más mensajes",
     "basta", "Basta por favor", "quiero darme de baja", "número equivocado",
     "Stop. Who is this?", "Who is this? Stop!"],
)  # fmt: skip
def test_free_text_that_asks_us_to_stop_is_a_stop_request(body: str) -> None:
    assert asks_to_stop(body)
    assert read_message(body).intent is SmsIntent.STOP_REQUEST


@pytest.mark.parametrize(
    "body",
    ["I can't stop by today", "I'll stop by the front desk tomorrow", "Don't stop the reminders",
     "please don't stop texting me, it helps", "Keep sending the reminders!",
     "Can you text me the address?", "Why don't you text me the time again",
     "The bus stop moved, I might be late", "Did the doctor stop my medication?",
     "I didn't get the message about Tuesday", "Thanks, see you then",
     "I stopped taking the pills", "Yes I will be there", "No, I can't come", "Call me back",
     "no puedo ir mañana", "gracias, ahí estaré", "¿me pueden mandar la dirección?",
     "no dejen de enviar recordatorios", "Si no me mandan mensaje se me olvida",
     "I need to cancel my appointment", "Need to reschedule, sorry", "Can I come at 3 instead?",
     "Where do I stop? Which floor?", "I'll stop in after work."],
)  # fmt: skip
def test_ordinary_messages_are_not_stop_requests(body: str) -> None:
    assert not asks_to_stop(body)
    assert read_message(body).intent is not SmsIntent.STOP_REQUEST


def test_a_sentence_with_a_keyword_in_it_is_free_text_not_the_keyword() -> None:
    # "cancel" inside a sentence neither opts out nor cancels: an agent calls back.
    assert read_message("I need to cancel my appointment").intent is SmsIntent.FREE_TEXT
    assert read_message("help me find the clinic").intent is SmsIntent.FREE_TEXT
    assert read_message("c u tomorrow").intent is SmsIntent.FREE_TEXT
    assert read_message("").intent is SmsIntent.FREE_TEXT
