"""Conversation basics through the console transport: greeting, help, language, cancel, errors."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bot.messages import Incoming
from bot.registry import registry
from storage.conversations import ProcessedEvent
from storage.users import User
from tests.personas import event, make_personas


async def test_german_greeting_says_what_the_bot_does_with_buttons(chat):
    await chat.say("hallo")
    assert "citybot" in chat.last().text
    assert "Jobs suchen" in chat.labels()
    assert "Hilfe" in chat.labels()


async def test_english_greeting_with_buttons(chat_en):
    await chat_en.say("hi")
    assert "I am citybot" in chat_en.last().text
    assert "Find a job" in chat_en.labels()


async def test_help_lists_commands(chat):
    await chat.say("/help")
    text = chat.last().text
    for command in ("/cancel", "/language", "/alerts", "/mydata", "/claim"):
        assert command in text


async def test_help_lists_the_commands_of_the_users_roles_only(app):
    await make_personas(app)
    shown: dict[str, set[str]] = {}
    for name in ("citizen", "shop_owner", "ppe_coordinator", "admin"):
        text = (await app.dispatcher.handle(event(name, text="/help")))[-1].text
        shown[name] = {line.split()[0] for line in text.splitlines() if line.startswith("/")}
    everyone = {
        f"/{name}"
        for name, route in registry.commands.items()
        if name in registry.command_help and route.role is None
    }
    assert {"/claim", "/mydata", "/deletedata", "/cancel", "/vouchers"} <= everyone
    assert shown["citizen"] == everyone
    assert shown["shop_owner"] == everyone | {
        "/myshop",
        "/update",
        "/redeem",
        "/confirmpay",
        "/sales",
    }
    assert shown["ppe_coordinator"] - everyone == {
        "/ppequeue",
        "/ppeapprove",
        "/ppereject",
        "/ppedelivered",
        "/ppesupply",
        "/ppecorrect",
        "/ppereport",
    }
    assert shown["admin"] == {f"/{name}" for name in registry.command_help}


async def test_help_puts_a_commands_arguments_after_its_name(chat, chat_en):
    await chat.say("/help")
    lines = chat.last().text.splitlines()
    assert "/balance CODE – Guthaben und Gültigkeit eines Gutscheins" in lines
    assert "/follow NAME – Updates eines Ladens bekommen" in lines
    assert "/help – diese Hilfe" in lines
    await chat_en.say("/help")
    lines = chat_en.last().text.splitlines()
    assert "/claim CODE – take a role with an invite code" in lines
    assert not [line for line in lines if line.count(" – ") > 1]


async def test_language_switch_changes_the_answers(chat):
    await chat.say("/language en")
    assert "English" in chat.last().text
    await chat.say("hallo")
    assert "Find a job" in chat.labels()
    await chat.say("/language de")
    await chat.say("hi")
    assert "Jobs suchen" in chat.labels()


async def test_language_without_argument_offers_both(chat):
    await chat.say("/language")
    assert chat.labels() == ["Deutsch", "English"]
    await chat.press("English")
    assert "English" in chat.last().text


async def test_unknown_command_is_explained(chat):
    await chat.say("/frobnicate")
    assert "/frobnicate" in chat.last().text
    assert "/help" in chat.last().text


async def test_cancel_without_form_says_so(chat):
    await chat.say("/cancel")
    assert "nichts" in chat.last().text


async def test_out_of_scope_gets_fallback_with_menu(chat):
    await chat.say("wie wird das wetter morgen in mallorca")
    assert "nicht verstanden" in chat.last().text
    assert "Jobs suchen" in chat.labels()


async def test_button_number_out_of_range_is_not_a_press(chat):
    await chat.say("hallo")
    await chat.say("99")
    assert chat.turns[-1], "a number that names no button still gets an answer"
    assert "Jobs suchen" not in chat.last().text


async def test_redelivered_event_has_no_second_effect(app):
    event = Incoming(platform="console", chat_id="c1", user_id="u1", event_id="evt-1", text="hallo")
    first = await app.dispatcher.handle(event)
    second = await app.dispatcher.handle(event)
    assert first and second == []
    async with app.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(ProcessedEvent)) == 1
        assert await db.scalar(select(func.count()).select_from(User)) == 1


async def test_group_chat_ignores_unaddressed_text(app):
    event = Incoming(
        platform="console",
        chat_id="g1",
        user_id="u2",
        event_id="evt-2",
        text="hallo",
        is_group=True,
        addressed=False,
    )
    assert await app.dispatcher.handle(event) == []
    async with app.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(User)) == 0


async def test_old_style_payload_of_unknown_button_is_expired(app):
    event = Incoming(
        platform="console",
        chat_id="c3",
        user_id="u3",
        event_id="evt-3",
        kind="button",
        payload="nonexistent.action:1",
        locale="en",
    )
    replies = await app.dispatcher.handle(event)
    assert "no longer valid" in replies[0].text


async def test_button_with_bad_argument_is_expired_not_a_crash(app):
    event = Incoming(
        platform="console",
        chat_id="c4",
        user_id="u4",
        event_id="evt-4",
        kind="button",
        payload="job.details:notanumber",
        locale="en",
    )
    replies = await app.dispatcher.handle(event)
    assert "no longer valid" in replies[0].text


async def test_an_admin_invite_for_an_organisation_that_does_not_exist_is_refused(app):
    await make_personas(app)
    refused = (await app.dispatcher.handle(event("admin", text="/invite shop_owner Café Rosa")))
    assert "I do not know “Café Rosa” for this role" in refused[-1].text
    made = (await app.dispatcher.handle(event("admin", text="/invite shop_owner cafe-rosa")))
    assert re.search(r"[2-9A-Z]{4}-[2-9A-Z]{4}", made[-1].text)
    employer = (await app.dispatcher.handle(event("admin", text="/invite employer Neue GmbH")))
    assert re.search(r"[2-9A-Z]{4}-[2-9A-Z]{4}", employer[-1].text)  # employers: any name
