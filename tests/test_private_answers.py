"""Personal answers asked for in a group chat go to the user's private chat only."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from bot.app import App
from bot.i18n import translator
from bot.messages import Incoming, Reply
from storage import outbox
from storage.jobs import OPEN, Employer, JobPosting
from storage.users import Identity, create_invite

GROUP = "group-elternbeirat"
de = translator("de")


def in_group(user: str, text: str, name: str | None = None) -> Incoming:
    """A line a console user writes in a group chat."""
    return Incoming(
        platform="console",
        chat_id=GROUP,
        user_id=user,
        event_id=uuid.uuid4().hex,
        kind="command" if text.startswith("/") else "text",
        text=text,
        locale="de",
        display_name=name or user,
        is_group=True,
    )


async def rows(app: App) -> list[outbox.OutboxMessage]:
    async with app.sessions() as db:
        return list(
            await db.scalars(select(outbox.OutboxMessage).order_by(outbox.OutboxMessage.id))
        )


def shown(replies: list[Reply]) -> str:
    """Everything a group member sees of a turn: texts, labels, links, file names and contents."""
    parts = []
    for reply in replies:
        parts.append(reply.text)
        parts += [f"{b.label} {b.payload} {b.url}" for b in reply.buttons]
        for attachment in (reply.image, reply.file):
            if attachment is not None:
                parts += [attachment.filename, attachment.content.decode("utf-8", "replace")]
    return "\n".join(parts)


async def employer_with_an_application(app: App, chat_factory, applicant):
    """An applicant applies (sharing their name) to a posting whose employer claims the role."""
    async with app.sessions() as db:
        job = await db.scalar(
            select(JobPosting).where(JobPosting.status == OPEN).order_by(JobPosting.id).limit(1)
        )
        employer = await db.get(Employer, job.employer_id)
    await applicant.say(f"/start job-{job.id}")
    await applicant.press("Bewerben")
    await applicant.say("Ich pflege seit Jahren meine Großmutter, Telefon 0231 77 88 99.")
    await applicant.press("Ja, Namen")
    await applicant.say("ja")
    assert "angekommen" in applicant.last().text
    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "employer", employer.name)).code
    boss = chat_factory("chefin", "de")
    await boss.say(f"/claim {code}")
    return boss


async def test_mydata_in_a_group_is_sent_to_the_private_chat(app, chat):
    replies = await app.dispatcher.handle(in_group("anna", "/mydata"))
    assert [r.text for r in replies] == [de("private.sent")]
    assert "anna" not in shown(replies) and not replies[0].buttons
    [row] = await rows(app)
    assert (row.platform, row.recipient, row.status) == ("console", "anna", outbox.PENDING)
    [export] = outbox.deserialise(row.payload)
    assert export.file is not None
    assert json.loads(export.file.content)["account"][0]["identities"][0]["id"] == "anna"


async def test_a_button_of_the_private_answer_works_by_number_in_the_private_chat(app, chat):
    await app.dispatcher.handle(in_group("anna", "/mydata"))
    await chat.say("1")
    assert "wirklich" in chat.last().text, "1 = the delete button under the export"


async def test_employers_applications_in_a_group_reveal_nothing_there(app, chat, chat_factory):
    boss = await employer_with_an_application(app, chat_factory, chat)
    replies = await app.dispatcher.handle(in_group("chefin", "/applications"))
    group_sees = shown(replies)
    assert group_sees == de("private.sent")
    assert "0231" not in group_sees and "anna" not in group_sees
    row = (await rows(app))[-1]
    assert row.recipient == "chefin"
    private = shown(outbox.deserialise(row.payload))
    assert "0231 77 88 99" in private and "anna" in private
    assert boss.turns, "the employer used the bot privately before"


async def test_an_intent_of_a_private_route_is_private_too(app, chat):
    replies = await app.dispatcher.handle(in_group("anna", "welche daten habt ihr über mich"))
    assert shown(replies) == de("private.sent")
    assert (await rows(app))[-1].recipient == "anna"


async def test_a_public_answer_stays_in_the_group(app, chat):
    public = await app.dispatcher.handle(in_group("anna", "/help"))
    assert "/mydata" in public[0].text
    assert await rows(app) == []


async def test_without_a_private_chat_the_user_is_asked_to_write_first(app):
    replies = await app.dispatcher.handle(in_group("zoe", "/mydata"))
    assert shown(replies) == de("private.write_first")
    assert await rows(app) == [], "nothing personal is kept for later"


async def test_a_start_link_delivers_the_held_answer_in_the_private_chat(app, chat_factory):
    app.dispatcher.start_links["console"] = lambda payload: f"https://chat.example/?start={payload}"
    replies = await app.dispatcher.handle(in_group("zoe", "/mydata"))
    assert replies[0].text == de("private.start")
    [link] = replies[0].buttons
    assert link.label == de("button.open_private") and link.payload == ""
    assert "zoe" not in shown(replies)
    [held] = await rows(app)
    assert held.status == outbox.HELD and link.url.endswith(f"?start=private-{held.id}")

    stranger = chat_factory("mallory", "de")
    await stranger.say(f"/start private-{held.id}")
    assert stranger.last().text == de("private.link_expired"), "the link is only its owner's"

    zoe = chat_factory("zoe", "de")
    await zoe.say(f"/start private-{held.id}")
    export = zoe.last()
    assert export.file is not None and json.loads(export.file.content)["account"]
    assert await rows(app) == []
    await zoe.say(f"/start private-{held.id}")
    assert zoe.last().text == de("private.link_expired"), "delivered once"
    async with app.sessions() as db:
        identity = await db.scalar(select(Identity).where(Identity.external_id == "zoe"))
    assert identity.private_chat_id == "zoe"
    again = await app.dispatcher.handle(in_group("zoe", "/mydata"))
    assert shown(again) == de("private.sent"), "now the bot may write to zoe privately"


async def test_a_blocked_private_chat_gets_the_link_again(app, chat):
    app.dispatcher.start_links["console"] = lambda payload: f"https://chat.example/?start={payload}"
    async with app.sessions() as db, db.begin():
        await outbox.mark_unreachable(db, "console", "anna")
    replies = await app.dispatcher.handle(in_group("anna", "/mydata"))
    assert replies[0].buttons[0].url
    await app.dispatcher.handle(in_group("anna", "/help"))
    async with app.sessions() as db:
        identity = await db.scalar(select(Identity).where(Identity.external_id == "anna"))
    assert identity.reachable is False, "a group message does not prove the bot may write"


@pytest.mark.parametrize("language", ["de", "en"])
async def test_the_group_answers_exist_in_both_languages(language):
    t = translator(language)
    texts = {t(k) for k in ("private.sent", "private.start", "private.write_first")}
    assert len(texts) == 3 and all(len(text) > 20 for text in texts)


def test_a_link_button_is_a_url_button_on_telegram_and_a_plain_link_elsewhere(tmp_path):
    from bot.console import render as console_render
    from bot.matrix.render import turn
    from bot.messages import Button, flat_buttons
    from bot.telegram.render import keyboard

    link = Button("Privat öffnen", url="https://t.me/citybot?start=private-7")
    replies = [Reply("Persönlich", [link]), Reply("Weiter?", [Button("Ja", "help")])]
    assert flat_buttons(replies) == [replies[1].buttons[0]], "a link is no numbered choice"

    markup = keyboard([link])
    assert markup is not None
    [[url_button]] = markup["inline_keyboard"]
    assert url_button == {"text": link.label, "url": link.url}, "no callback_data"

    (first, _), (second, _) = turn(replies)
    assert "Privat öffnen: https://t.me/citybot?start=private-7" in first["body"]
    assert '<a href="https://t.me/citybot?start=private-7">' in first["formatted_body"]
    assert second["body"].endswith("1. Ja"), "numbering skips the link"

    text = console_render(replies, tmp_path)
    assert "Privat öffnen: https://t.me/citybot?start=private-7" in text and "[1] Ja" in text
    with pytest.raises(ValueError):
        Button("both", "help", url="https://example.org")
