"""QA's round-5 messages: the details of a shown list item are no data export, the shops I
follow are their list (unsubscribe_shop without a name shows it), openers greet, "ach lass mal"
cancels surely enough for a form, applying for a numbered list item is nothing harmful. The
training data (nlu/data/*/round5.yml) has variants, never these texts."""

from __future__ import annotations

import pytest

from bot.dispatcher import FORM_CANCEL_CONFIDENCE
from nlu import EmbeddedNLU, default_data_dir
from nlu.normalize import normalize
from nlu.rasa_yaml import load_dir

LIST_ITEM_DETAILS = [
    "show me the details of the first one",
    "zeig mir die details der ersten stelle",
    "show me details of number 1",
]
MY_DATA = ["zeig mir meine daten", "show me my data", "welche daten habt ihr über mich",
           "export my data"]
FOLLOWED_SHOPS = ["which shops do I follow?", "welchen läden folge ich?",
                  "which shops am i following"]
OPENERS = ["hab ne frage", "ich hab mal ne frage", "was geht", "moin, kurze frage"]
CANCELS = ["ach lass mal", "lass gut sein", "forget it"]
APPLY_BY_NUMBER = ["I want to apply for number 2",
                   "ich möchte mich auf die zweite stelle bewerben"]
# what a misreading must never start: data export or erasure, a posting, an order
HARMFUL = {"export_my_data", "delete_my_data", "post_job", "request_ppe", "order_voucher",
           "redeem_voucher", "broadcast_update", "unsubscribe_shop", "cancel_parent_evening"}
TESTER_TEXTS = [*LIST_ITEM_DETAILS, *FOLLOWED_SHOPS, *OPENERS, "ach lass mal",
                *APPLY_BY_NUMBER]


def intent(nlu_model: EmbeddedNLU, text: str) -> dict:
    return nlu_model.parse_sync(text)["intent"]


@pytest.mark.parametrize("text", LIST_ITEM_DETAILS)
def test_the_details_of_a_list_item_are_no_data_export(nlu_model: EmbeddedNLU, text: str):
    assert intent(nlu_model, text)["name"] not in HARMFUL


@pytest.mark.parametrize("text", MY_DATA)
def test_my_data_is_still_an_export(nlu_model: EmbeddedNLU, text: str):
    assert intent(nlu_model, text)["name"] == "export_my_data"


@pytest.mark.parametrize("text", FOLLOWED_SHOPS)
def test_the_shops_i_follow_are_their_list(nlu_model: EmbeddedNLU, text: str):
    # unsubscribe_shop without a shop name answers with the followed shops (handlers/shops.py)
    assert intent(nlu_model, text)["name"] == "unsubscribe_shop"


@pytest.mark.parametrize(("text", "wanted"), [("follow café rosa", "subscribe_shop"),
                                              ("ich will dem blumenladen folgen",
                                               "subscribe_shop"),
                                              ("unfollow the bookshop", "unsubscribe_shop")])
def test_following_a_shop_stays_as_it_was(nlu_model: EmbeddedNLU, text: str, wanted: str):
    assert intent(nlu_model, text)["name"] == wanted


@pytest.mark.parametrize("text", OPENERS)
def test_an_opener_greets(nlu_model: EmbeddedNLU, text: str):
    assert intent(nlu_model, text)["name"] in {"greet", "help"}


@pytest.mark.parametrize("text", ["ich hab ne frage zu meinem gutschein",
                                  "got a question about my voucher"])
def test_a_question_about_a_service_is_that_service(nlu_model: EmbeddedNLU, text: str):
    assert intent(nlu_model, text)["name"] == "voucher_balance"


@pytest.mark.parametrize("text", CANCELS)
def test_a_short_cancel_is_sure_enough_for_a_form(nlu_model: EmbeddedNLU, text: str):
    found = intent(nlu_model, text)
    assert found["name"] == "cancel"
    assert found["confidence"] >= FORM_CANCEL_CONFIDENCE


@pytest.mark.parametrize("text", APPLY_BY_NUMBER)
def test_applying_for_a_numbered_item_is_nothing_harmful(nlu_model: EmbeddedNLU, text: str):
    assert intent(nlu_model, text)["name"] in {"find_job", "nlu_fallback"}


def test_the_tester_texts_are_not_training_examples():
    trained = {normalize(example.text) for example in load_dir(default_data_dir()).examples}
    assert not [text for text in TESTER_TEXTS if normalize(text) in trained]
