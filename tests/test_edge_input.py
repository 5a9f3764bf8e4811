"""Bad input at the edge: huge ids, broken Unicode, NUL and control characters, long names,
and a form whose saving fails (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import App, create_app
from bot.i18n import translator
from bot.messages import Incoming
from bot.registry import payload
from bot.sanitize import MAX_TEXT_CHARS, clean_incoming, clean_text
from handlers.jobs import PostJobForm
from storage.jobs import JobPosting
from storage.users import User, create_invite
from tests.conftest import make_config
from tests.personas import INTERNAL_ERRORS, event, press

EN = translator("en")


@pytest.fixture
async def any_app(database_url: str, tmp_path: Path, nlu_model) -> AsyncIterator[App]:
    """citybot with the demo data on SQLite and on PostgreSQL."""
    application = await create_app(make_config(tmp_path, database_url), nlu=nlu_model)
    yield application
    await application.close()


async def say(app: App, user: str, text: str, **fields) -> list[str]:
    kind = "command" if text.startswith("/") else "text"
    replies = await app.dispatcher.handle(event(user, kind=kind, text=text, **fields))
    texts = [r.text for r in replies]
    assert not INTERNAL_ERRORS & set(texts), f"internal error on {text!r}"
    return texts


def test_clean_text():
    assert clean_text("abc\ud800def") == "abc\ufffddef"
    assert clean_text("\ud83d\ude00") == "😀", "a surrogate pair becomes its character"
    assert clean_text("a\x00b\x07c\x1b[31m") == "abc[31m"
    assert clean_text("line\r\nnext\tcol\rlast") == "line\nnext\tcol\nlast"
    assert clean_text("\ufffe\uffff\U0010ffff\ufdd0ok") == "ok"
    assert clean_text("ä" * 10_000) == "ä" * MAX_TEXT_CHARS
    plain = "Grüß dich! 👋"
    assert clean_text(plain) is plain


def test_clean_incoming_cleans_text_payload_and_name():
    dirty = Incoming(
        "telegram", "1", "1", "e", text="hi\x00", payload="x\x00y", display_name="A\x00n\nna " * 30
    )
    clean = clean_incoming(dirty)
    assert clean.text == "hi" and clean.payload == "xy"
    assert clean.display_name is not None and len(clean.display_name) <= 100
    assert "\x00" not in clean.display_name and "\n" not in clean.display_name


@pytest.mark.parametrize("number", ["99999999999999999999", "4294967296", "2147483648"])
async def test_huge_ids_in_links_and_buttons_are_invalid_not_a_crash(any_app, number):
    texts = await say(any_app, "u1", f"/start job-{number}")
    assert texts[0].startswith(EN("start.bad_link"))  # then the greeting, one message
    replies = await press(any_app, "u1", payload("job.details", number))
    assert [r.text for r in replies] == [EN("button.expired")]


async def test_a_lone_surrogate_is_understood_like_any_text(any_app):
    texts = await say(any_app, "u2", "abc\ud800def")
    assert texts
    texts = await say(any_app, "u2", "hallo\udfff")
    assert texts


async def test_nul_and_control_characters_never_reach_the_database(any_app):
    name = "Anna\x00\x1b " + "x" * 300
    await say(any_app, "u3", "/language en", display_name=name)
    async with any_app.sessions() as db, db.begin():
        user = await db.scalar(select(User))
        code = (await create_invite(db, "employer", "Pflegedienst Sonnenschein")).code
    assert user.display_name is not None and len(user.display_name) <= 100
    assert "\x00" not in user.display_name and "\x1b" not in user.display_name
    await say(any_app, "u3", f"/claim {code}")
    await say(any_app, "u3", "/postjob")
    for answer in (
        "Pflege\x00kraft (m/w/d)",
        "nursing",
        "Innenstadt-West",
        "part-time",
        "Wir suchen\x00 Unterstützung\x07 im Frühdienst, 20 Stunden pro Woche.",
        "jobs@sonnenschein.example",
    ):
        await say(any_app, "u3", answer)
    texts = await say(any_app, "u3", "yes")
    assert "Published" in texts[0], texts
    async with any_app.sessions() as db:
        job = await db.scalar(select(JobPosting).where(JobPosting.title == "Pflegekraft (m/w/d)"))
    assert job is not None and job.description.startswith("Wir suchen Unterstützung im")


async def test_a_form_whose_saving_fails_is_not_stuck(app, monkeypatch):
    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "employer", "Pflegedienst Sonnenschein")).code
    await say(app, "boss", "/language en")
    await say(app, "boss", f"/claim {code}")
    await say(app, "boss", "/postjob")
    for answer in (
        "Koch (m/w/d)",
        "gastronomy",
        "Innenstadt-West",
        "mini job",
        "Kochen in unserer Kantine, montags bis freitags mittags.",
        "0231 123456",
    ):
        await say(app, "boss", answer)
    original = PostJobForm.submit.__func__

    async def write_then_fail(cls, ctx, values, args):
        await original(cls, ctx, values, args)  # writes the posting, then fails
        raise RuntimeError("storage hiccup")

    monkeypatch.setattr(PostJobForm, "submit", classmethod(write_then_fail))
    for _attempt in range(2):
        replies = await app.dispatcher.handle(event("boss", text="yes"))
        assert [r.text for r in replies] == [EN("form.save_failed")]
        assert [b.payload for b in replies[0].buttons] == ["form.confirm", "form.cancel"]
    async with app.sessions() as db:
        saved = (
            select(func.count()).select_from(JobPosting).where(JobPosting.title == "Koch (m/w/d)")
        )
        assert await db.scalar(saved) == 0, "nothing of the failed saving is kept"
    monkeypatch.undo()
    texts = await say(app, "boss", "yes")
    assert "Published" in texts[0], "the user can go on once saving works"
    async with app.sessions() as db:
        assert await db.scalar(saved) == 1


async def test_a_failed_form_can_be_cancelled(app, monkeypatch):
    async def fail(cls, ctx, values, args):
        raise RuntimeError("storage hiccup")

    monkeypatch.setattr(PostJobForm, "submit", classmethod(fail))
    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "employer", "Pflegedienst Sonnenschein")).code
    await say(app, "boss2", "/language en")
    await say(app, "boss2", f"/claim {code}")
    await say(app, "boss2", "/postjob")
    for answer in (
        "Koch (m/w/d)",
        "gastronomy",
        "Innenstadt-West",
        "mini job",
        "Kochen in unserer Kantine, montags bis freitags mittags.",
        "0231 123456",
        "yes",
    ):
        await say(app, "boss2", answer)
    texts = await say(app, "boss2", "/cancel")
    assert texts[0] == EN("form.cancelled")
    texts = await say(app, "boss2", "yes")
    assert texts[0] != EN("form.save_failed")
