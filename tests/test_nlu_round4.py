"""The tester's round-4 messages: job notifications off without a shop word, bare job titles
(also those ending in "-hilfe"), the voucher list and balance without a code, bare numbers and
amounts. The training data (nlu/data/*/round4.yml) has variants, never these texts."""

from __future__ import annotations

import pytest

from nlu import EmbeddedNLU, default_data_dir
from nlu.normalize import normalize
from nlu.rasa_yaml import load_dir

JOB_NOTIFICATIONS_OFF = ["ich will keine benachrichtigungen mehr", "keine benachrichtigungen mehr"]
BARE_JOB_TITLES = [
    ("küchenhilfe", "gastronomy"),
    ("kuechenhilfe", "gastronomy"),
    ("koch", "gastronomy"),
    ("maurer", "crafts"),
    ("paketbote", "logistics"),
    ("informatiker", "it"),
    ("tagesmutter", "education"),
    ("reinigungskraft", "cleaning"),
    ("pflegehelfer", "nursing"),
    ("erzieherin", "education"),
    ("kassierer", "retail"),
    ("hausmeister", "crafts"),
    ("fahrer", "logistics"),
    ("kitchen help", "gastronomy"),
    ("cook", "gastronomy"),
    ("bricklayer", "crafts"),
    ("childminder", "education"),
    ("secretary", "office"),
]
MY_VOUCHERS = [
    "was passiert mit meinen gutscheinen",
    "meine gutscheine",
    "was hab ich noch drauf",
    "my vouchers",
    "my gift cards",
]
BARE_NUMBERS = ["20", "30", "50", "100", "200", "20 euro", "20 euros"]
TESTER_TEXTS = [
    *JOB_NOTIFICATIONS_OFF,
    *(title for title, _field in BARE_JOB_TITLES),
    *MY_VOUCHERS,
    *BARE_NUMBERS,
]


def job_fields(result: dict) -> set[object]:
    """The job_field values of a parse result."""
    return {e["value"] for e in result["entities"] if e["entity"] == "job_field"}


@pytest.mark.parametrize("text", JOB_NOTIFICATIONS_OFF)
def test_notifications_off_without_a_shop_are_about_job_alerts(nlu_model: EmbeddedNLU,
                                                               text: str):
    assert nlu_model.parse_sync(text)["intent"]["name"] == "job_alert"


@pytest.mark.parametrize(
    "text", ["keine benachrichtigungen mehr vom blumenladen", "stop updates from café rosa"]
)
def test_notifications_off_for_a_shop_stay_unsubscribe(nlu_model: EmbeddedNLU, text: str):
    assert nlu_model.parse_sync(text)["intent"]["name"] == "unsubscribe_shop"


@pytest.mark.parametrize(("text", "field"), BARE_JOB_TITLES)
def test_a_bare_job_title_is_a_job_search(nlu_model: EmbeddedNLU, text: str, field: str):
    result = nlu_model.parse_sync(text)
    assert result["intent"]["name"] == "find_job", result["intent"]
    assert job_fields(result) == {field}


@pytest.mark.parametrize("text", ["hilfe", "help", "was kannst du", "what can you do"])
def test_asking_for_help_is_still_help(nlu_model: EmbeddedNLU, text: str):
    assert nlu_model.parse_sync(text)["intent"]["name"] == "help"


@pytest.mark.parametrize("text", MY_VOUCHERS)
def test_my_vouchers_is_the_voucher_list(nlu_model: EmbeddedNLU, text: str):
    assert nlu_model.parse_sync(text)["intent"]["name"] == "voucher_balance"


@pytest.mark.parametrize(
    "text", ["ich möchte einen gutschein für 20 euro kaufen", "buy a voucher for my mum"]
)
def test_buying_a_voucher_is_still_an_order(nlu_model: EmbeddedNLU, text: str):
    assert nlu_model.parse_sync(text)["intent"]["name"] == "order_voucher"


@pytest.mark.parametrize("text", BARE_NUMBERS)
def test_a_bare_number_or_amount_carries_no_intent(nlu_model: EmbeddedNLU, text: str):
    result = nlu_model.parse_sync(text)
    assert result["intent"]["name"] == "nlu_fallback", result["intent"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [("200 ffp2 masken bitte", "request_ppe"), ("100 pairs of gloves", "request_ppe")],
)
def test_a_number_with_an_item_is_still_a_request(nlu_model: EmbeddedNLU, text: str,
                                                  intent: str):
    assert nlu_model.parse_sync(text)["intent"]["name"] == intent


def test_the_tester_texts_are_not_training_examples():
    trained = {normalize(example.text) for example in load_dir(default_data_dir()).examples}
    assert not [text for text in TESTER_TEXTS if normalize(text) in trained]
