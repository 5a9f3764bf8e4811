"""PPE, round 5: items without a quantity keep the others, "eine Flasche" counts one,
thousands and either word order in /ppesupply and /ppeapprove, singular units."""

from __future__ import annotations

import pytest

from bot.i18n import translator
from handlers import ppe_input
from handlers.ppe_text import pieces_text
from storage import ppe
from tests.personas import role_chat
from tests.test_chat_ppe import NUMBER, future


@pytest.fixture
async def coordinator_en(app, chat_factory):
    """A PPE coordinator, English."""
    return await role_chat(app, chat_factory, "coord5", "en", "ppe_coordinator")


async def _stock(app) -> dict[str, int]:
    async with app.sessions() as db:
        return await ppe.stock(db)


def _one_question(text: str) -> None:
    assert text.count("?") == 1, text
    assert "Was brauchen Sie" not in text and "What do you need" not in text, text


# ---- 1. items without a quantity ------------------------------------------------------------


async def test_one_bottle_is_read_and_the_masks_are_kept(feuerwehr):
    await feuerwehr.say(
        "wir bräuchten 35 op masken und eine flasche desinfektionsmittel bis " + future(4)
    )
    assert "Wie dringend" in feuerwehr.last().text, feuerwehr.last().text
    await feuerwehr.press("Normal")
    await feuerwehr.say("-")
    summary = feuerwehr.last().text
    assert "• 35 OP-Masken" in summary and "• 1 Flasche Desinfektionsmittel" in summary, summary


async def test_an_item_without_quantity_is_asked_for_alone_and_the_rest_kept(feuerwehr):
    await feuerwehr.say("wir brauchen 35 op masken und ein paar visiere bis " + future(4))
    text = feuerwehr.last().text
    assert "Notiert: 35 OP-Masken." in text and "Wie viele Visiere?" in text, text
    _one_question(text)
    await feuerwehr.say("20")
    assert "Wie dringend" in feuerwehr.last().text, feuerwehr.last().text
    await feuerwehr.press("Normal")
    await feuerwehr.say("-")
    summary = feuerwehr.last().text
    assert "• 35 OP-Masken" in summary and "• 20 Visiere" in summary, summary


async def test_english_a_couple_of_goggles_keeps_masks_and_shields(health_en):
    await health_en.say(
        "we need 3 boxes of surgical masks, 15 face shields and a couple of goggles by "
        + future(4)
    )
    text = health_en.last().text
    assert "How many goggles?" in text and "15 face shields" in text, text
    _one_question(text)
    await health_en.say("2 goggles")
    await health_en.press("Normal")
    await health_en.say("-")
    summary = health_en.last().text
    for line in ("• 2 goggles", "• 15 face shields", "150 surgical masks (3 cartons"):
        assert line in summary, summary


async def test_two_items_without_quantity_are_asked_one_after_the_other(feuerwehr):
    await feuerwehr.say("/ppe")
    await feuerwehr.say("100 handschuhe, ein paar visiere und ein paar kittel")
    text = feuerwehr.last().text
    assert "Notiert: 100 Handschuhe." in text and "Wie viele Visiere?" in text, text
    _one_question(text)
    await feuerwehr.say("10")
    text = feuerwehr.last().text
    assert "Wie viele Schutzkittel?" in text and "10 Visiere" in text, text
    _one_question(text)
    await feuerwehr.say("5")
    assert "Bis wann" in feuerwehr.last().text, feuerwehr.last().text


async def test_masks_of_a_chosen_kind_ask_only_how_many(feuerwehr):
    await feuerwehr.say("brauchen dringend masken")
    await feuerwehr.say("1")  # the first button: FFP2-Masken
    text = feuerwehr.last().text
    assert "Wie viele FFP2-Masken?" in text, text
    _one_question(text)
    await feuerwehr.say("100")
    assert "Bis wann" in feuerwehr.last().text, feuerwehr.last().text


def _entities(text: str, items: dict[str, str]) -> list[dict]:
    return [
        {"entity": "ppe_item", "value": value, "start": text.index(word),
         "end": text.index(word) + len(word)}
        for word, value in items.items()
    ]


@pytest.mark.parametrize(
    ("text", "items", "expected"),
    [
        ("eine flasche desinfektionsmittel", {"desinfektionsmittel": "disinfectant"},
         [["disinfectant", 1]]),
        ("ne kiste handschuhe", {"handschuhe": "gloves"}, [["gloves", 100]]),
        ("a box of gloves", {"gloves": "gloves"}, [["gloves", 100]]),
        ("a face shield", {"face shield": "face_shield"}, [["face_shield", 1]]),
    ],
)
def test_an_article_before_an_item_counts_one(text, items, expected):
    assert ppe_input.items_in(text, _entities(text, items), 1000) == expected


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("ein paar visiere", {"visiere": "face_shield"}),
        ("a couple of goggles", {"goggles": "goggles"}),
        ("bedarf an handschuhen", {"handschuhen": "gloves"}),
    ],
)
def test_vague_words_count_nothing(text, items):
    with pytest.raises(ppe_input.Invalid) as caught:
        ppe_input.items_in(text, _entities(text, items), 1000)
    assert caught.value.key == ppe_input.NO_QUANTITY


# ---- 2. thousands in commands ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "value"),
    [("1,000", 1000), ("1.000", 1000), ("-2,500", -2500), ("1,5", None), ("1.5", None)],
)
def test_signed_int_reads_thousands_not_decimals(word, value):
    assert ppe_input.signed_int(word) == value


async def test_supply_with_an_english_thousands_separator(app, coordinator_en):
    before = await _stock(app)
    await coordinator_en.say("/ppesupply gloves 1,000 purchase")
    assert "1,000 gloves" in coordinator_en.last().text, coordinator_en.last().text
    assert (await _stock(app))["gloves"] == before["gloves"] + 1000


async def test_approve_with_an_english_thousands_separator_and_more_items(
    app, coordinator_en, health_en
):
    await health_en.say("we need 2000 gloves and 20 gowns by " + future(3))
    await health_en.press("Normal")
    await health_en.say("-")
    await health_en.press("Confirm")
    request_id = int(NUMBER.search(health_en.last().text).group(1))
    await coordinator_en.say(f"/ppeapprove {request_id} gloves 1,500 gowns 10")
    assert "approved in part" in coordinator_en.last().text, coordinator_en.last().text
    async with app.sessions() as db:
        request = await ppe.get_request(db, request_id)
        assert {line.item: line.allocated for line in request.lines} == {
            "gloves": 1500, "gown": 10}


# ---- 3. word orders and packs in /ppesupply -------------------------------------------------


@pytest.mark.parametrize(
    ("command", "item", "pieces"),
    [
        ("/ppesupply 500 op-masken spende", "surgical_mask", 500),
        ("/ppesupply handschuhe 2 kartons purchase", "gloves", 200),
        ("/ppesupply visiere 30 lokal aus dem Makerspace", "face_shield", 30),
    ],
)
async def test_supply_reads_items_like_allocations(app, coordinator, command, item, pieces):
    before = await _stock(app)
    await coordinator.say(command)
    assert "Zugang gebucht" in coordinator.last().text, coordinator.last().text
    assert (await _stock(app))[item] == before[item] + pieces


# ---- 4. singular units ----------------------------------------------------------------------


def test_one_bottle_is_singular():
    assert pieces_text(translator("de"), "de", "disinfectant", 1).startswith("1 Flasche ")
    assert pieces_text(translator("en"), "en", "disinfectant", 1).startswith("1 bottle ")
    assert pieces_text(translator("de"), "de", "disinfectant", 2).startswith("2 Flaschen ")
