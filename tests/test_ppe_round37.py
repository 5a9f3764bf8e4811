"""PPE, round 37: a coordinator's words (approve, queue, supply), /ppecorrect with the
catalogue's names, choosing the kind of masks without an error, sizes said in a request."""

from __future__ import annotations

import pytest

from storage import ppe
from storage.users import create_invite
from tests.personas import refusal, role_chat
from tests.test_chat_ppe import _stock, _submit, future


@pytest.fixture
async def coordinator_en(app, chat_factory):
    """A PPE coordinator, English."""
    return await role_chat(app, chat_factory, "coord37", "en", "ppe_coordinator")


@pytest.fixture
async def both_roles(app, chat_factory):
    """A requester of the fire brigade who also coordinates, German."""
    chat = await role_chat(app, chat_factory, "both37", "de", "ppe_requester", "feuerwehr")
    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "ppe_coordinator", None)).code
    await chat.say(f"/claim {code}")
    return chat


async def _status(app, request_id: int) -> str:
    async with app.sessions() as db:
        return (await ppe.get_request(db, request_id)).status


# ---- 1. a coordinator's words --------------------------------------------------------------


async def test_approve_in_words_asks_to_confirm_and_approves_only_then(
    app, coordinator_en, feuerwehr
):
    request_id = await _submit(feuerwehr, "wir brauchen 30 schutzkittel bis " + future(3))
    await coordinator_en.say(f"approve request {request_id}")
    text = coordinator_en.last().text
    assert f"Approve request PSA-2026-{request_id:04d} in full?" in text, text
    assert "30 gowns" in text and "Confirm" in coordinator_en.labels(), text
    assert await _status(app, request_id) == ppe.SUBMITTED, "not approved before confirming"
    await coordinator_en.press("Confirm")
    assert "fully approved" in coordinator_en.last().text, coordinator_en.last().text
    assert await _status(app, request_id) == ppe.APPROVED


async def test_german_approve_in_words_cancelled_changes_nothing(app, coordinator, feuerwehr):
    request_id = await _submit(feuerwehr, "wir brauchen 30 schutzkittel bis " + future(3))
    await coordinator.say(f"anforderung {request_id} genehmigen")
    assert "vollständig genehmigen?" in coordinator.last().text, coordinator.last().text
    await coordinator.say("nein")
    assert await _status(app, request_id) == ppe.SUBMITTED


@pytest.mark.parametrize(
    ("lang", "words", "title"),
    [
        ("en", "show open PPE requests", "Open PPE requests by priority"),
        ("de", "zeig mir die offenen psa anforderungen", "Offene PSA-Anforderungen"),
    ],
)
async def test_queue_words_show_the_queue(app, chat_factory, feuerwehr, lang, words, title):
    await _submit(feuerwehr, "wir brauchen 30 schutzkittel bis " + future(3))
    chat = await role_chat(app, chat_factory, f"queue37{lang}", lang, "ppe_coordinator")
    await chat.say(words)
    assert title in chat.last().text, chat.last().text
    assert "PPE requester" not in chat.last().text and "PSA-Anforderer" not in chat.last().text


async def test_received_words_book_the_supply_after_confirming(app, coordinator_en):
    before = (await _stock(app))["ffp2_mask"]
    await coordinator_en.say("we received 500 ffp2 masks as a donation")
    text = coordinator_en.last().text
    assert "500 FFP2 masks" in text and "donation" in text, text
    assert (await _stock(app))["ffp2_mask"] == before, "not booked before confirming"
    await coordinator_en.press("Confirm")
    assert "Supply booked: 500 FFP2 masks" in coordinator_en.last().text
    assert (await _stock(app))["ffp2_mask"] == before + 500


async def test_other_coordinator_words_point_to_the_commands(coordinator_en):
    await coordinator_en.say("we need 200 ffp2 masks by friday")
    text = coordinator_en.last().text
    assert "/ppequeue" in text and "/ppeapprove N" in text and "/ppesupply" in text, text


async def test_the_commands_stay_for_requesters(coordinator):
    for command in ("/ppe", "/ppestatus"):
        await coordinator.say(command)
        assert coordinator.last().text == refusal("ppe_requester", "de"), command


async def test_both_roles_request_unless_the_words_are_a_coordinators(app, both_roles, feuerwehr):
    await both_roles.say("wir brauchen 200 ffp2 masken bis " + future(3))
    assert "Wie dringend" in both_roles.last().text, both_roles.last().text
    await both_roles.say("abbrechen")
    request_id = await _submit(feuerwehr, "wir brauchen 30 schutzkittel bis " + future(3))
    await both_roles.say(f"anforderung {request_id} genehmigen")
    assert "vollständig genehmigen?" in both_roles.last().text, both_roles.last().text


# ---- 2. /ppecorrect with the catalogue's names ---------------------------------------------


@pytest.mark.parametrize(
    ("command", "item", "qty"),
    [
        ("/ppecorrect FFP2 masks -20 water damage", "ffp2_mask", -20),
        ("/ppecorrect surgical masks -20 water damage", "surgical_mask", -20),
        ("/ppecorrect face shields -2 broken", "face_shield", -2),
        ("/ppecorrect FFP2 Masken +20 Inventur", "ffp2_mask", 20),
    ],
)
async def test_correct_reads_multi_word_names(app, coordinator_en, command, item, qty):
    before = await _stock(app)
    await coordinator_en.say(command)
    assert "Correction booked" in coordinator_en.last().text, coordinator_en.last().text
    assert (await _stock(app))[item] == before[item] + qty


# ---- 3. choosing the kind of masks ---------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "choice", "error", "question"),
    [
        ("en", "1", "without a quantity", "How many FFP2 masks?"),
        ("en", "FFP2 masks", "without a quantity", "How many FFP2 masks?"),
        ("de", "1", "Ohne Menge", "Wie viele FFP2-Masken?"),
    ],
)
async def test_choosing_the_mask_kind_asks_how_many_without_an_error(
    app, chat_factory, lang, choice, error, question
):
    chat = await role_chat(app, chat_factory, f"mask37{lang}", lang, "ppe_requester", "feuerwehr")
    await chat.say("we need masks" if lang == "en" else "wir brauchen masken")
    await chat.say(choice)
    text = "\n".join(reply.text for reply in chat.turns[-1])
    assert question in text and error not in text, text


# ---- 4. sizes ------------------------------------------------------------------------------


async def test_a_size_is_said_to_go_into_the_note(health_en):
    await health_en.say("we need 200 gloves size M by " + future(4))
    await health_en.press("Normal")
    text = health_en.last().text
    assert "size M" in text and "cannot request sizes" in text, text
    await health_en.say("gloves size M please")
    summary = health_en.last().text
    assert "• 200 gloves" in summary and "Note: gloves size M please" in summary, summary


async def test_a_size_number_is_no_quantity(feuerwehr):
    await feuerwehr.say("wir brauchen handschuhe größe 8 bis " + future(4))
    assert "Wie viele Handschuhe?" in feuerwehr.last().text, feuerwehr.last().text
