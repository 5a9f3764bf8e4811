"""QA's round-7 messages: privacy questions (does the employer or the school see my name, GDPR,
the privacy policy) reach export_my_data, whose handler answers them; deleting or withdrawing
one's own application is find_job (its handler shows "meine bewerbungen"), never the erasure of
the whole account; giving back or refunding a voucher and how a voucher is paid are
voucher_balance (the handler answers them), refunds of other things stay out of scope; a
registered parent's questions for the video link or the calendar file are my_appointments, "i
cant make it anymore" gives the place back. The training data (nlu/data/*/round7.yml) has
variants, never these texts."""

from __future__ import annotations

import pytest

from nlu import EmbeddedNLU, default_data_dir
from nlu.normalize import normalize
from nlu.rasa_yaml import load_dir

EXPECTED = [
    ("bekommt der arbeitgeber meinen namen?", "export_my_data"),
    ("sieht die schule meinen namen?", "export_my_data"),
    ("ist das dsgvo konform?", "export_my_data"),
    ("does the employer see my name?", "export_my_data"),
    ("privacy policy", "export_my_data"),
    ("lösch meine bewerbung", "find_job"),
    ("delete my application", "find_job"),
    ("can i get a refund", "voucher_balance"),
    ("can i get a refund for my voucher?", "voucher_balance"),
    ("ich möchte meinen gutschein zurückgeben", "voucher_balance"),
    ("can i pay online", "voucher_balance"),
    ("can i pay by card", "voucher_balance"),
    ("whats the video link?", "my_appointments"),
    ("where is the link for the meeting", "my_appointments"),
    ("can you send me the calendar file again", "my_appointments"),
    ("i cant make it anymore", "cancel_parent_evening"),
    ("wo ist der link zum elternabend", "my_appointments"),
    ("schick mir den kalendereintrag nochmal", "my_appointments"),
]
# a misreading that must not come back: delete_my_data erases the whole account
NEVER = [
    ("lösch meine bewerbung", {"delete_my_data"}),
    ("delete my application", {"delete_my_data"}),
    ("ich möchte meine bewerbung zurückziehen", {"delete_my_data"}),
    ("can you send me the calendar file again", {"help", "export_my_data"}),
]
STILL = [  # guards: what these words meant before still holds
    ("lösch alle meine daten", "delete_my_data"),
    ("delete my account", "delete_my_data"),
    ("zeig mir meine bewerbungen", "find_job"),
    ("ich möchte meine bewerbung zurückziehen", "find_job"),
    ("wer sieht meine daten?", "export_my_data"),
    ("exportier meine daten", "export_my_data"),
    ("can i get a tax refund", "nlu_fallback"),
    ("can i return my amazon gift card", "nlu_fallback"),
    ("kann ich den gutschein verschenken", "order_voucher"),
    ("kann ich im café mit karte zahlen", "shop_info"),
    ("nochmal bitte", "help"),
]


@pytest.mark.parametrize(("text", "expected"), [*EXPECTED, *STILL])
def test_the_reading(nlu_model: EmbeddedNLU, text: str, expected: str) -> None:
    assert nlu_model.parse_sync(text)["intent"]["name"] == expected


@pytest.mark.parametrize(("text", "wrong"), NEVER)
def test_never_read_as(nlu_model: EmbeddedNLU, text: str, wrong: set[str]) -> None:
    assert nlu_model.parse_sync(text)["intent"]["name"] not in wrong


def test_qa_messages_are_not_training_data() -> None:
    training = {normalize(example.text) for example in load_dir(default_data_dir()).examples}
    assert [t for t, _ in EXPECTED if normalize(t) in training] == []
