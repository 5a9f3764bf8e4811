"""The tester's round-3 messages: bare job titles, PPE with a deadline or a quantity after the
item, donations, withdrawing a PPE request, job mails off, shop kinds in the plural, voucher
codes with a space, Oberstufe classes. The training data has variants, not these texts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlu import EmbeddedNLU
from nlu.numbers import find_voucher_codes


def values(result: dict, entity: str) -> list[object]:
    return [e["value"] for e in result["entities"] if e["entity"] == entity]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("verkäuferin", "retail"),
        ("verkäuferin teilzeit", "retail"),
        ("pflegekraft teilzeit", "nursing"),
        ("verkäufer", "retail"),
        ("staplerfahrer", "logistics"),
        ("reinigungskraft", "cleaning"),
        ("hebamme", "medical"),
        ("physiotherapeut", "medical"),
        ("hab ihr was im krankenhaus", "nursing"),  # hospitals hire mostly nurses (demo jobs)
        ("kita erzieherin lütgendortmund", "education"),
        ("spargelstechen", "agriculture"),
        ("midwife", "medical"),
        ("physiotherapist", "medical"),
        ("kindergarten teacher", "education"),
    ],
)
def test_a_bare_job_title_is_a_job_search(nlu_model: EmbeddedNLU, text: str, field: str):
    result = nlu_model.parse_sync(text)
    assert result["intent"]["name"] == "find_job", result["intent"]
    assert set(values(result, "job_field")) == {field}


def test_a_job_title_with_part_time(nlu_model: EmbeddedNLU):
    result = nlu_model.parse_sync("verkäuferin teilzeit")
    assert values(result, "employment_type") == ["part_time"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # "bis …" is a deadline, not a goodbye
        ("masken bis nächste woche", "request_ppe"),
        ("hundert op-masken bis freitag", "request_ppe"),
        ("hundert op-masken bitte bis freitag", "request_ppe"),
        ("wir brauchen 10 schutzbrillen bis zum 18.", "request_ppe"),
        ("ffp2 masken 100 stück", "request_ppe"),
        ("brauchen dringend handschuhe, so zwei kartons", "request_ppe"),
        ("gloves, 2 boxes", "request_ppe"),
        ("disinfectant, like 5 bottles", "request_ppe"),
        # withdrawing a request is about its state
        ("please withdraw request PSA-2026-0015", "ppe_status"),
        ("cancel my ppe request", "ppe_status"),
        # job mails: the job alert handler deals with switching them off
        ("ich will keine jobmails mehr", "job_alert"),
        ("lösch meine job benachrichtigung", "job_alert"),
        ("stop job alerts", "job_alert"),
        ("what job alerts do I have", "job_alert"),
        ("show my job alerts", "job_alert"),
        # the list of followed shops: unsubscribe_shop without a name shows it (subscribe_shop
        # only asks which shop to follow; round 5)
        ("which shops do I follow", "unsubscribe_shop"),
        ("show me my vouchers", "voucher_balance"),
        # donations: the voucher handler switches to its donation form
        ("donate 10 euros to the florist", "order_voucher"),
        ("donate to da enzo", "order_voucher"),
        ("ich möchte den blumenladen unterstützen", "order_voucher"),
        ("10 euro spenden für da enzo", "order_voucher"),
        ("support the bookshop with 20 euros", "order_voucher"),
        # shop kinds in the plural
        ("butchers", "shop_info"),
        ("florists in brackel", "shop_info"),
        ("toy shops", "shop_info"),
        ("flower shops in brackel", "shop_info"),
    ],
)
def test_tester_messages_get_their_intent(nlu_model: EmbeddedNLU, text: str, intent: str):
    assert nlu_model.parse_sync(text)["intent"]["name"] == intent


@pytest.mark.parametrize(("text", "category"), [
    ("butchers", "grocery"), ("florists in brackel", "florist"), ("toy shops", "other"),
])
def test_shop_kinds_in_the_plural_carry_their_category(nlu_model: EmbeddedNLU, text: str,
                                                        category: str):
    assert values(nlu_model.parse_sync(text), "shop_category") == [category]


def thursday_morning(tz: ZoneInfo) -> datetime:
    return datetime(2026, 11, 26, 10, 0, tzinfo=tz)  # Thursday, 26 Nov 2026


@pytest.mark.parametrize(
    ("text", "quantity", "item", "day"),
    [
        ("wir brauchen 10 schutzbrillen bis zum 18.", 10, "goggles", "2026-12-18"),
        ("wir brauchen ein dutzend schutzbrillen bis zum 12.", 12, "goggles", "2026-12-12"),
        ("hundert op-masken bis freitag", 100, "surgical_mask", "2026-11-27"),
        ("ffp2 masken 100 stück", 100, "ffp2_mask", None),
        ("brauchen dringend handschuhe, so zwei kartons", 2, "gloves", None),
        ("gloves, 2 boxes", 2, "gloves", None),
        ("disinfectant, like 5 bottles", 5, "disinfectant", None),
    ],
)
def test_ppe_quantity_item_and_deadline(nlu_model: EmbeddedNLU, text: str, quantity: int,
                                        item: str, day: str | None):
    nlu_model.extractor.clock = thursday_morning
    try:
        result = nlu_model.parse_sync(text)
    finally:
        nlu_model.extractor.clock = None
    assert values(result, "quantity") == [quantity]
    assert values(result, "ppe_item") == [item]
    assert values(result, "time") == ([day] if day else [])


def test_a_day_number_is_a_date_not_a_quantity(nlu_model: EmbeddedNLU):
    nlu_model.extractor.clock = thursday_morning
    try:
        result = nlu_model.parse_sync("elternabend am 12.")
    finally:
        nlu_model.extractor.clock = None
    assert values(result, "quantity") == []
    assert values(result, "time") == ["2026-12-12"]


@pytest.mark.parametrize(("text", "code"), [
    ("was ist noch drauf auf k7qf 2m9x", "K7QF-2M9X"),
    ("gutschein kmqf 2m9x einlösen", "KMQF-2M9X"),  # one half letters without a vowel
    ("balance of voucher K7QF 2M9X please", "K7QF-2M9X"),
])
def test_a_voucher_code_with_a_space(text: str, code: str):
    assert [e["value"] for e in find_voucher_codes(text)] == [code]


@pytest.mark.parametrize("text", [
    "k7qf 2m9x",  # nothing about a voucher
    "gutschein ganz 2m9x",  # "ganz" is a word
    "code test mode",
    "gutschein 2345 6789",  # numbers
])
def test_no_voucher_code_with_a_space(text: str):
    assert find_voucher_codes(text) == []


def test_a_spaced_code_in_a_parse(nlu_model: EmbeddedNLU):
    result = nlu_model.parse_sync("was ist noch drauf auf k7qf 2m9x")
    assert result["intent"]["name"] == "voucher_balance"
    assert values(result, "voucher_code") == ["K7QF-2M9X"]


@pytest.mark.parametrize(("text", "school_class"), [
    ("meine tochter ist in der Q1, wann ist da elternabend", "Q1"),
    ("elternabend der q2", "q2"),
    ("jahrgangsstufe EF elternabend", "jahrgangsstufe EF"),
])
def test_oberstufe_classes(nlu_model: EmbeddedNLU, text: str, school_class: str):
    result = nlu_model.parse_sync(text)
    assert result["intent"]["name"] == "list_parent_evenings"
    assert values(result, "school_class") == [school_class]
