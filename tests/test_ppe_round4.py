"""PPE, round 4: thousands separators, absurd quantities, quantity-first allocations and
"Masken" without their kind."""

from __future__ import annotations

import pytest

from handlers import ppe_input
from storage import ppe
from tests.test_chat_ppe import NUMBER, future, open_part_form


async def _submit(chat, message: str) -> int:
    """Send a full request, answer urgency and note, confirm; the request id."""
    await chat.say(message)
    await chat.press("Normal")
    await chat.say("-")
    await chat.press("Bestätigen")
    found = NUMBER.search(chat.last().text)
    assert found, chat.last().text
    return int(found.group(1))


async def _allocated(app, request_id: int) -> dict[str, int]:
    async with app.sessions() as db:
        request = await ppe.get_request(db, request_id)
        return {line.item: line.allocated or 0 for line in request.lines}


# ---- 1. thousands separators ----------------------------------------------------------------


async def test_german_thousands_separator_in_the_first_message(feuerwehr):
    await feuerwehr.say("wir brauchen 1.500 handschuhe bis " + future(3))
    assert "Wie dringend" in feuerwehr.last().text, feuerwehr.last().text
    await feuerwehr.press("Normal")
    await feuerwehr.say("-")
    assert "1.500 Handschuhe" in feuerwehr.last().text


async def test_german_thousands_separator_as_the_form_answer(feuerwehr):
    await feuerwehr.say("/ppe")
    await feuerwehr.say("1.500 FFP2-Masken")
    assert "Bis wann" in feuerwehr.last().text, feuerwehr.last().text


async def test_english_thousands_separator(health_en):
    await health_en.say("we need 1,000 gloves by " + future(3))
    assert "How urgent" in health_en.last().text, health_en.last().text
    await health_en.press("Normal")
    await health_en.say("-")
    assert "1,000 gloves" in health_en.last().text


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("1.500 handschuhe", [1500]),
        ("1,000 gloves", [1000]),
        ("1.000.000 masken", [1000000]),
        ("1,5 handschuhe", []),  # a decimal, not thousands
        ("2.5 gloves", []),
        ("bis 12.12.", []),  # a date
        ("1.500,50 euro", []),
        ("12345678 masken", [12345678]),  # more digits than the NLU reads
    ],
)
def test_written_numbers_are_thousands_only_with_groups_of_three(text, numbers):
    found = ppe_input.with_written_numbers(text, [])
    assert [e["value"] for e in found if e["entity"] == "quantity"] == numbers


# ---- 2. absurd quantities ---------------------------------------------------------------------


async def test_an_absurdly_large_quantity_is_refused_not_dropped(health_en):
    await health_en.say("/ppe")
    await health_en.say("999999999999999999999 masks")
    text = health_en.turns[-1][0].text
    assert "Too much at once" in text and "1000 cartons" in text, text


async def test_an_absurdly_large_quantity_of_a_named_item_is_refused(feuerwehr):
    await feuerwehr.say("/ppe")
    await feuerwehr.say("99999999 ffp2 masken")
    text = feuerwehr.turns[-1][0].text
    assert "Zu viel auf einmal" in text and "FFP2-Masken" in text, text


# ---- 3. partial allocation: the quantity first -----------------------------------------------


async def test_part_allocation_takes_the_quantity_before_the_item(app, coordinator, feuerwehr):
    request_id = await _submit(feuerwehr, "wir brauchen 2000 ffp2 masken bis " + future(2))
    await open_part_form(coordinator, request_id)
    await coordinator.say("1000 ffp2")
    assert "teilweise genehmigt" in coordinator.last().text, coordinator.last().text
    assert await _allocated(app, request_id) == {"ffp2_mask": 1000}


async def test_part_allocation_reads_words_like_the_request_form(app, coordinator, feuerwehr):
    request_id = await _submit(
        feuerwehr, "wir brauchen 400 ffp2 masken und 300 handschuhe bis " + future(2)
    )
    await open_part_form(coordinator, request_id)
    await coordinator.say("100 ffp2 masken und 2 kartons handschuhe")
    assert "teilweise genehmigt" in coordinator.last().text, coordinator.last().text
    assert await _allocated(app, request_id) == {"ffp2_mask": 100, "gloves": 200}


async def test_part_allocation_with_a_number_word_after_the_item(app, coordinator, feuerwehr):
    request_id = await _submit(feuerwehr, "wir brauchen 2000 ffp2 masken bis " + future(2))
    await open_part_form(coordinator, request_id)
    await coordinator.say("ffp2 tausend")
    assert "teilweise genehmigt" in coordinator.last().text, coordinator.last().text
    assert await _allocated(app, request_id) == {"ffp2_mask": 1000}


async def test_part_allocation_not_understood_gets_the_forms_hint(coordinator, feuerwehr):
    request_id = await _submit(feuerwehr, "wir brauchen 200 ffp2 masken bis " + future(2))
    await open_part_form(coordinator, request_id)
    await coordinator.say("ffp2 viele")
    text = coordinator.turns[-1][0].text
    assert "je Artikel eine Stückzahl" in text and "/ppeapprove" not in text, text
    assert "Wie viele Stück je Artikel" in coordinator.last().text


async def test_approve_command_takes_the_quantity_first(app, coordinator, feuerwehr):
    request_id = await _submit(feuerwehr, "wir brauchen 300 handschuhe bis " + future(2))
    await coordinator.say(f"/ppeapprove {request_id} 100 handschuhe")
    assert "teilweise genehmigt" in coordinator.last().text, coordinator.last().text
    assert await _allocated(app, request_id) == {"gloves": 100}


def test_allocation_pairs_in_either_order():
    assert ppe_input.allocation_pairs(["1000", "ffp2", "gloves", "1.000"]) == {
        "ffp2_mask": 1000,
        "gloves": 1000,
    }


# ---- 4. "Masken" without the kind ------------------------------------------------------------


async def test_bare_masks_ask_which_kind_before_the_quantity(app, feuerwehr):
    await feuerwehr.say("wir brauchen masken")
    assert len(feuerwehr.turns[-1]) == 1, "no 'how many surgical masks?' first"
    assert "Welche Masken" in feuerwehr.last().text
    assert feuerwehr.labels()[:2] == ["FFP2-Masken", "OP-Masken"]
    await feuerwehr.press("FFP2-Masken")
    assert "Wie viele FFP2-Masken" in feuerwehr.turns[-1][0].text
    await feuerwehr.say("200")
    assert "Bis wann" in feuerwehr.last().text, feuerwehr.last().text
    await feuerwehr.say(future(3))
    await feuerwehr.press("Normal")
    await feuerwehr.say("-")
    assert "200 FFP2-Masken" in feuerwehr.last().text


async def test_bare_masks_with_a_quantity_in_the_form_ask_the_kind(feuerwehr):
    await feuerwehr.say("/ppe")
    await feuerwehr.say("200 masken und 2 kartons handschuhe")
    assert "Welche Masken" in feuerwehr.last().text
    await feuerwehr.say("op")
    assert "Bis wann" in feuerwehr.last().text, feuerwehr.last().text
    await feuerwehr.say(future(3))
    await feuerwehr.press("Normal")
    await feuerwehr.say("-")
    summary = feuerwehr.last().text
    assert "200 OP-Masken" in summary and "200 Handschuhe" in summary


async def test_english_bare_masks_ask_which_kind(health_en):
    await health_en.say("we need 300 masks")
    assert "Which masks" in health_en.last().text
    await health_en.press("FFP2 masks")
    assert "By when" in health_en.last().text, health_en.last().text


async def test_approving_bare_masks_names_the_requests_only_mask(app, coordinator, feuerwehr):
    request_id = await _submit(feuerwehr, "wir brauchen 500 ffp2 masken bis " + future(2))
    await coordinator.say(f"/ppeapprove {request_id} masken 100")
    assert "teilweise genehmigt" in coordinator.last().text, coordinator.last().text
    assert await _allocated(app, request_id) == {"ffp2_mask": 100}


async def test_approving_bare_masks_asks_which_when_the_request_has_both(
    app, coordinator, feuerwehr
):
    request_id = await _submit(
        feuerwehr, "wir brauchen 500 ffp2 masken und 300 op-masken bis " + future(2)
    )
    await coordinator.say(f"/ppeapprove {request_id} masken 100")
    text = coordinator.last().text
    assert "Welche Masken" in text and "FFP2-Masken, OP-Masken" in text, text
    assert await _allocated(app, request_id) == {"ffp2_mask": 0, "surgical_mask": 0}


def test_a_quantity_alone_answers_how_many_of_the_item_asked_about():
    entities = ppe_input.with_item("1.500", [], "gloves")
    assert ppe_input.items_in("1.500", entities, 1000) == [["gloves", 1500]]
    assert ppe_input.with_item("klopapier", [], "gloves") == [], "no quantity: not the item's"


@pytest.mark.parametrize(
    "command", ["/ppesupply masken 300 purchase", "/ppecorrect masks -20 Inventur"]
)
async def test_stock_commands_ask_which_masks_instead_of_booking_surgical_ones(
    app, coordinator, command
):
    async with app.sessions() as db:
        before = await ppe.stock(db)
    await coordinator.say(command)  # before: booked as surgical masks
    assert "Welche Masken meinen Sie" in coordinator.last().text
    async with app.sessions() as db:
        assert await ppe.stock(db) == before
