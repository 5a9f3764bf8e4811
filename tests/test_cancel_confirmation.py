"""A confirmation that is itself a cancellation labels its buttons so; "yes, cancel it" confirms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from bot.app import App
from bot.messages import Incoming
from storage import parent_evenings as pe
from storage.base import utcnow
from storage.users import create_invite
from tests.conftest import Chat
from tests.personas import signed


async def _teacher_cancelling(app: App, chat_factory: Callable[..., Chat]) -> tuple[Chat, int]:
    """An English-speaking teacher at the confirmation of calling a session off."""
    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "school_staff", "grundschule-am-park")).code
        school = await pe.school_by_key(db, "grundschule-am-park")
        session = await pe.create_session(
            db, school, title="Parent evening 6b", classes=["6b"],
            starts_at=utcnow() + timedelta(days=2), duration_minutes=60, capacity=25,
            room_url="https://meet.example.org/park-6b",
        )
    teacher = chat_factory("teacher", "en")
    await teacher.say("/language en")
    await teacher.say(f"/claim {code}")
    await teacher.app.dispatcher.handle(Incoming(
        platform="console", chat_id="teacher", user_id="teacher", event_id="cancel-6b",
        kind="button", payload=signed(app, "teacher", f"ev.cancel:{session.id}")))
    return teacher, session.id


async def _status(app: App, session_id: int) -> str:
    async with app.sessions() as db:
        return await db.scalar(
            select(pe.EveningSession.status).where(pe.EveningSession.id == session_id))


async def test_yes_cancel_it_calls_the_session_off(app: App,
                                                   chat_factory: Callable[..., Chat]) -> None:
    teacher, session_id = await _teacher_cancelling(app, chat_factory)
    await teacher.say("yes, cancel it")  # before: "Cancelled. Nothing was saved." – kept
    assert await _status(app, session_id) == pe.CANCELLED


async def test_the_buttons_say_what_they_do(app: App, chat_factory: Callable[..., Chat]) -> None:
    teacher, session_id = await _teacher_cancelling(app, chat_factory)
    await teacher.say("nochmal")  # the confirmation again, with its buttons
    assert teacher.labels() == ["Yes, cancel the session", "No, keep it"]
    await teacher.press("No, keep it")
    assert await _status(app, session_id) == pe.SCHEDULED
