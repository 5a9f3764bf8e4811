"""QA's round-6 messages: asking to hear it again is no cancel, a shop's name alone is its card,
questions about the bot are help, voucher validity and cancelling are a voucher question, a
coordinator's queue words are PPE status, list paging words are no goodbye or job search. The
training data (nlu/data/*/round6.yml) has variants, never these texts."""

from __future__ import annotations

import pytest

from nlu import EmbeddedNLU

EXPECTED = [
    ("nochmal bitte", "help"),
    ("repeat please", "help"),
    ("say that again", "help"),
    ("trattoria da enzo", "shop_info"),
    ("blumenladen lindenblüte", "shop_info"),
    ("bist du ein mensch?", "help"),
    ("are you a human?", "help"),
    ("ist das kostenlos?", "help"),
    ("wie lange ist ein gutschein gültig?", "voucher_balance"),
    ("how long is a voucher valid?", "voucher_balance"),
    ("kann ich meinen gutschein stornieren?", "voucher_balance"),
    ("show me the queue", "ppe_status"),
]
# a misreading that must not come back: cancel drops a form's answers, goodbye ends the talk
NEVER = [
    ("nochmal bitte", {"cancel"}),
    ("noch einmal bitte", {"cancel"}),
    ("die nächsten", {"goodbye"}),
    ("gibt es noch mehr?", {"find_job"}),
    ("trattoria da enzo", {"unsubscribe_shop"}),
]
STILL = [  # guards: what these words meant before still holds
    ("nochmal von vorne", "cancel"),
    ("trattoria da enzo abbestellen", "unsubscribe_shop"),
    ("zeig mir meine daten", "export_my_data"),
    ("ich möchte den gutschein verschenken", "order_voucher"),
]


@pytest.mark.parametrize(("text", "expected"), [*EXPECTED, *STILL])
def test_the_reading(nlu_model: EmbeddedNLU, text: str, expected: str) -> None:
    assert nlu_model.parse_sync(text)["intent"]["name"] == expected


@pytest.mark.parametrize(("text", "wrong"), NEVER)
def test_never_read_as(nlu_model: EmbeddedNLU, text: str, wrong: set[str]) -> None:
    assert nlu_model.parse_sync(text)["intent"]["name"] not in wrong
