"""Round 38, privacy: the erase question answered in everyday words, one thing asked to be
deleted, privacy questions, invite codes typed without /claim or sent twice, the export."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.i18n import translator
from handlers import account
from handlers.account import DELETE_ASKED, ERASE_QUESTION_OPEN
from storage import shop_updates
from storage.base import utcnow
from storage.conversations import ConversationState
from storage.shops import Shop
from storage.users import Identity, InviteCode, create_invite
from tests.conftest import Chat

DE, EN = translator("de"), translator("en")


async def users_called(app: App, name: str) -> int:
    """How many users have the console identity name (0 once erased)."""
    async with app.sessions() as db:
        found = select(func.count()).select_from(Identity).where(Identity.external_id == name)
        return await db.scalar(found) or 0


async def new_invite(
    app: App, role: str = "employer", org: str | None = "Pflegedienst Sonnenschein"
) -> str:
    """A fresh invite code."""
    async with app.sessions() as db, db.begin():
        return (await create_invite(db, role, org)).code


# --- 1. a yes after another answer ------------------------------------------------------------


async def test_a_yes_after_checking_the_vouchers_asks_the_erase_question_again(
    app: App, chat: Chat
) -> None:
    await chat.say("/deletedata")
    await chat.say("/vouchers")  # as the question advises: note the codes first
    await chat.say("ja")  # before: "Alles klar! 👍" – and nothing was erased
    assert chat.last().text == DE("privacy.delete_question")
    assert DE("button.delete_confirm") in chat.labels()
    assert await users_called(app, "anna") == 1  # never erased on a yes after another answer
    await chat.press(DE("button.delete_confirm"))
    assert chat.last().text == DE("privacy.deleted")
    assert await users_called(app, "anna") == 0


async def test_a_yes_long_after_the_erase_question_is_an_ordinary_yes(
    app: App, chat: Chat
) -> None:
    await chat.say("/deletedata")
    await chat.say("/vouchers")
    async with app.sessions() as db, db.begin():
        chat_state = select(ConversationState).where(ConversationState.chat_id == "anna")
        state = await db.scalar(chat_state)
        assert state is not None
        asked_long_ago = (utcnow() - ERASE_QUESTION_OPEN - timedelta(minutes=1)).isoformat()
        state.data = {**state.data, DELETE_ASKED: asked_long_ago}
    await chat.say("ja")
    assert chat.last().text == DE("confirm.ack")  # the question no longer waits
    assert await users_called(app, "anna") == 1


# --- 2. everyday ways of saying yes -------------------------------------------------------------


@pytest.mark.parametrize(
    "said", ["ja alles löschen", "ja, lösch alles", "ja, bitte alles löschen"]
)
async def test_an_everyday_yes_to_the_erase_question_erases(
    app: App, chat: Chat, said: str
) -> None:
    await chat.say("/deletedata")
    await chat.say(said)  # before: the question again, every time
    assert chat.last().text == DE("privacy.deleted")
    assert await users_called(app, "anna") == 0


async def test_an_english_yes_to_the_erase_question_erases(app: App, chat_en: Chat) -> None:
    await chat_en.say("/deletedata")
    await chat_en.say("yes delete everything")
    assert chat_en.last().text == EN("privacy.deleted")
    assert await users_called(app, "ben") == 0


@pytest.mark.parametrize("said", ["nein", "abbrechen"])
async def test_a_no_to_the_erase_question_keeps_everything(
    app: App, chat: Chat, said: str
) -> None:
    await chat.say("/deletedata")
    await chat.say(said)
    await chat.say("ja")  # the question was dropped: a yes now erases nothing
    assert DE("privacy.deleted") not in chat.text()
    assert await users_called(app, "anna") == 1


# --- 3. one thing to delete ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "language", "key"),
    [
        ("lösch meine bewerbung", "de", "privacy.delete_one.application"),
        ("bitte löscht meine telefonnummer", "de", "privacy.delete_one.not_stored"),
        ("delete my application", "en", "privacy.delete_one.application"),
    ],
)
async def test_a_request_to_delete_one_thing_says_where_that_is_done(
    chat_factory: Callable[..., Chat], said: str, language: str, key: str
) -> None:
    """Read as an erasure request, the one thing named gets its pointer (`one_thing_named`);
    the NLU of round 7 reads a deleted application as the applications (find_job) – either
    way, never the one-tap full wipe."""
    assert account.one_thing_named(said.lower()) == key
    chat = chat_factory("carla", language)
    await chat.say(f"/language {language}")
    await chat.say(said)  # before: "Soll ich wirklich alle deine Daten löschen?" [Ja, alles …]
    t = translator(language)
    assert chat.last().text != t("privacy.delete_question")
    assert t("button.delete_confirm") not in chat.labels()


def test_delete_one_thing_texts_point_to_their_commands() -> None:
    for t in (DE, EN):
        assert "/myapplications" in t("privacy.delete_one.application")
        assert "/alerts" in t("privacy.delete_one.alert")
        assert "/vouchers" in t("privacy.delete_one.voucher")
        assert "/appointments" in t("privacy.delete_one.registration")
        assert "/following" in t("privacy.delete_one.following")


# --- 4. privacy questions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "asked",
    [
        "gebt ihr meine daten weiter?",
        "datenschutz",
        "datenschutzerklärung",
        "bekommt der arbeitgeber meinen namen?",
        "ist das dsgvo konform?",
    ],
)
async def test_a_privacy_question_gets_the_answer_not_the_file(chat: Chat, asked: str) -> None:
    await chat.say(asked)  # before: the JSON export (or "nicht verstanden … 115")
    assert chat.last().file is None
    assert chat.last().text.startswith(DE("privacy.answer", state_days=90, outbox_days=30)[:40])


@pytest.mark.parametrize("asked", ["privacy policy", "does the employer see my name?"])
async def test_an_english_privacy_question_gets_the_answer(chat_en: Chat, asked: str) -> None:
    await chat_en.say(asked)
    assert chat_en.last().file is None
    assert chat_en.last().text.startswith(EN("privacy.answer", state_days=90,
                                             outbox_days=30)[:40])


async def test_a_request_for_the_data_still_sends_the_file(chat: Chat) -> None:
    await chat.say("zeig mir meine daten")
    assert chat.last().file is not None


# --- 5. an invite code without /claim -------------------------------------------------------


@pytest.mark.parametrize(
    "said", ["{code}", "mein einladungscode ist {code}", "/claim {code} bitte"]
)
async def test_an_invite_code_typed_in_a_message_is_claimed(
    app: App, chat: Chat, said: str
) -> None:
    code = "RJPR-LKVX"  # QA's code (a code the NLU reads as a voucher's goes to the vouchers)
    async with app.sessions() as db, db.begin():
        invite = await create_invite(db, "employer", "Pflegedienst Sonnenschein")
        invite.code = code
    await chat.say(said.format(code=code))  # before: "nicht verstanden … 115" / "gibt es nicht"
    assert chat.last().text == DE("claim.granted_org", role=DE("roles.employer"),
                                  org="Pflegedienst Sonnenschein")


# --- 6. a code sent again, a role held already -------------------------------------------------


async def test_sending_a_claimed_code_again_is_no_wrong_guess(
    app: App, chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    code = await new_invite(app)
    await chat.say(f"/claim {code}")
    caplog.set_level(logging.WARNING)
    for _ in range(6):  # more than the 5 guesses
        await chat.say(f"/claim {code}")
        assert chat.last().text == DE("claim.already_held_org", role=DE("roles.employer"),
                                      org="Pflegedienst Sonnenschein")
    assert "wrong code" not in caplog.text
    await chat.say(f"/claim {await new_invite(app, 'ppe_coordinator', None)}")
    assert chat.last().text == DE("claim.granted", role=DE("roles.ppe_coordinator"))


async def test_a_second_code_for_a_role_held_stays_unused(app: App, chat: Chat) -> None:
    await chat.say(f"/claim {await new_invite(app)}")
    second = await new_invite(app)
    await chat.say(f"/claim {second}")  # before: "Erledigt …", and the code was used up
    assert chat.last().text == DE("claim.already_held_org", role=DE("roles.employer"),
                                  org="Pflegedienst Sonnenschein")
    async with app.sessions() as db:
        invite = await db.get(InviteCode, second)
        assert invite is not None and invite.claimed_at is None


# --- 7. the export names the shop of an update ------------------------------------------------


async def test_the_export_names_the_shop_of_an_update_written(app: App, chat: Chat) -> None:
    await chat.say(f"/claim {await new_invite(app, 'shop_owner', 'cafe-rosa')}")
    async with app.sessions() as db, db.begin():
        user_id = await db.scalar(select(Identity.user_id).where(Identity.external_id == "anna"))
        rosa = await db.scalar(select(Shop.id).where(Shop.name == "Café Rosa"))
        await shop_updates.save_draft(db, rosa, user_id)
    await chat.say("/mydata")
    written = json.loads(chat.last().file.content)["shop_updates_written"]
    assert [u["shop"] for u in written] == ["Café Rosa"]  # before: only "shop_id": 2
