"""What each of the supervisor's rates counts, in one place: the dashboard and the metrics API
state every rate's numerator and denominator from these definitions, in the same words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from crm.selectors.metrics import Figures, Thresholds


@dataclass(frozen=True, slots=True)
class Rate:
    key: str  # the rate's field in Figures and the API
    title: str
    numerator: str  # the count over...
    denominator: str  # ...this count, both fields of Figures and the API
    numerator_words: str  # "resolved"
    denominator_words: str  # "first contacts"
    caption: Callable[[Thresholds], str]  # exactly what is counted, with the thresholds

    def counts(self, figures: Figures) -> tuple[int, int]:
        return getattr(figures, self.numerator), getattr(figures, self.denominator)

    def fraction(self, figures: Figures) -> str:
        """The rate's counts in words: "3 resolved of 4 first contacts"."""
        part, whole = self.counts(figures)
        if self.key == "average_handle_seconds":
            return f"{part:,} s over {whole:,} {self.denominator_words}"
        return f"{part:,} {self.numerator_words} of {whole:,} {self.denominator_words}"


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


RATES: tuple[Rate, ...] = (
    Rate(
        key="fcr_rate",
        title="First-contact resolution",
        numerator="resolved_first_contact",
        denominator="first_contacts",
        numerator_words="resolved",
        denominator_words="first contacts",
        caption=lambda t: (
            "Resolved: inbound handled contacts that opened an issue (a reason from the "
            "clinic's list, free text counting as other), that the agent marked resolved on "
            "first contact, and after which the patient made no further contact on the same "
            f"reason within {_days(t.fcr_repeat_days)}; over all such first contacts. "
            "Contacts marked resolved whose window is still open are not counted yet."
        ),
    ),
    Rate(
        key="average_handle_seconds",
        title="Average handle time",
        numerator="handle_seconds",
        denominator="handled",
        numerator_words="seconds",
        denominator_words="handled contacts",
        caption=lambda t: (
            "Talk + hold + wrap-up time of handled (connected) contacts, over the number of "
            "handled contacts."
        ),
    ),
    Rate(
        key="abandonment_rate",
        title="Abandonment",
        numerator="abandoned",
        denominator="queued",
        numerator_words="ended before reaching an agent",
        denominator_words="inbound calls and chats",
        caption=lambda t: (
            "Inbound calls and chats that ended before reaching an agent (the caller hung "
            "up in the queue, or nobody picked up: missed), over all inbound calls and "
            f"chats; those that ended in under {t.short_abandon_seconds} s are left out of "
            "both."
        ),
    ),
    Rate(
        key="no_show_rate",
        title="No-show rate",
        numerator="no_shows",
        denominator="visits_closed",
        numerator_words="no-shows",
        denominator_words="visits closed",
        caption=lambda t: (
            "No-shows over visits closed (completed or no-show), by the day they were closed."
        ),
    ),
    Rate(
        key="reminder_confirmation_rate",
        title="Reminders confirmed by text",
        numerator="confirmed_by_text",
        denominator="reminded_appointments",
        numerator_words="confirmed by text",
        denominator_words="reminded visits",
        caption=lambda t: (
            "Visits the patient confirmed by replying to the text, over visits whose first "
            "reminder text went out that day."
        ),
    ),
    Rate(
        key="opt_out_rate",
        title="Text opt-outs",
        numerator="opt_outs",
        denominator="reminders_sent",
        numerator_words="opt-outs",
        denominator_words="reminder texts",
        caption=lambda t: (
            "Patients who stopped texts (STOP, or the carrier's opt-out), over reminder texts sent."
        ),
    ),
    Rate(
        key="csat_rate",
        title="Satisfaction (CSAT)",
        numerator="csat_satisfied",
        denominator="csat_responses",
        numerator_words="answered 4 or 5",
        denominator_words="survey answers",
        caption=lambda t: "Survey answers scoring 4 or 5 out of 5, over all survey answers.",
    ),
    Rate(
        key="csat_average",
        title="Average satisfaction score",
        numerator="csat_score_total",
        denominator="csat_responses",
        numerator_words="points",
        denominator_words="survey answers",
        caption=lambda t: "The scores (1 to 5) added up, over all survey answers.",
    ),
)
BY_KEY = {rate.key: rate for rate in RATES}


def definitions(thresholds: Thresholds) -> dict[str, dict[str, str]]:
    """Each rate's numerator, denominator and caption, by the rate's key, for the API."""
    return {
        rate.key: {
            "title": rate.title,
            "numerator": rate.numerator,
            "denominator": rate.denominator,
            "caption": rate.caption(thresholds),
        }
        for rate in RATES
    }
