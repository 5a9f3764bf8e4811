"""The testers' round-5 staff messages: an employer closing a posting or asking for the
applications received, a shop owner changing hours or the card, asking for sales, announcing a
closure. The training data (nlu/data/*/staff5.yml) has variants, never these texts."""

from __future__ import annotations

import pytest

from nlu import EmbeddedNLU, default_data_dir
from nlu.normalize import normalize
from nlu.rasa_yaml import load_dir

EXPECTED = {
    "post_job": [
        "ich möchte die stelle kassierer schließen",
        "close the warehouse helper posting",
        "I want to delete my job ad",
        "close posting 69",
        "die stelle ist besetzt",
        "stelle kassierer löschen",
        "remove my posting",
    ],
    "find_job": ["zeig mir die bewerbungen", "meine stellenanzeigen"],
    "shop_info": [
        "ich möchte meine öffnungszeiten ändern",
        "I want to change my opening hours",
        "edit my shop card",
        "mein laden",
        "my shop",
    ],
    "voucher_balance": [
        "meine umsätze",
        "my sales",
        "wie viele gutscheine habe ich verkauft",
        "how many vouchers did we sell this month",
    ],
    "broadcast_update": ["heute wegen krankheit geschlossen"],
}
CASES = [(text, intent) for intent, texts in EXPECTED.items() for text in texts]


@pytest.mark.parametrize(("text", "intent"), CASES)
def test_staff_words_reach_their_service(nlu_model: EmbeddedNLU, text: str, intent: str):
    assert nlu_model.parse_sync(text)["intent"]["name"] == intent


@pytest.mark.parametrize("text", ["stelle kassierer löschen", "remove my posting"])
def test_deleting_a_posting_is_no_erasure_of_ones_data(nlu_model: EmbeddedNLU, text: str):
    assert nlu_model.parse_sync(text)["intent"]["name"] not in ("delete_my_data",
                                                                "export_my_data")


@pytest.mark.parametrize("text", ["lösch alle meine daten", "delete my account",
                                  "welche daten habt ihr über mich"])
def test_erasure_and_export_stay(nlu_model: EmbeddedNLU, text: str):
    assert nlu_model.parse_sync(text)["intent"]["name"] in ("delete_my_data", "export_my_data")


def test_the_tester_texts_are_not_training_examples():
    trained = {normalize(e.text) for e in load_dir(default_data_dir()).examples}
    assert not {normalize(text) for text, _intent in CASES} & trained
