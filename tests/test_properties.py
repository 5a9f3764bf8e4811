"""Property tests: arbitrary text and button numbers never crash the dispatcher or half-write."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.context import Context
from bot.i18n import translator
from bot.messages import Incoming, Reply
from bot.registry import registry
from storage.jobs import Application, JobAlert
from storage.users import User

_events = itertools.count()
INTERNAL_ERRORS = {translator(lang)("error.internal") for lang in ("de", "en")}

message = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            "1",
            "2",
            "3",
            "7",
            "0",
            "-1",
            "999",
            "/cancel",
            "/start job-1",
            "/start job-x",
            "/language",
            "/alerts",
            "/postjob",
            "ja",
            "nein",
            "abbrechen",
            "pflegejobs",
            "hallo",
            "/claim",
            "/claim XXXX-YYYY",
            "Mehr",
            "Bewerben",
            "Details",
            "/mydata",
            "any jobs?",
            "🙂",
            " ",
        ]
    ),
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(message, min_size=1, max_size=6), user=st.sampled_from(["p1", "p2"]))
async def test_any_input_gets_a_reply_and_never_an_internal_error(app, lines, user):
    for line in lines:
        kind = "command" if line.startswith("/") else "text"
        event = Incoming(
            platform="console",
            chat_id=user,
            user_id=user,
            event_id=f"prop-{next(_events)}",
            kind=kind,
            text=line,
        )
        replies = await app.dispatcher.handle(event)
        assert replies, f"no reply to {line!r}"
        assert all(isinstance(r, Reply) for r in replies)
        assert not INTERNAL_ERRORS & {r.text for r in replies}, f"internal error on {line!r}"
        for reply in replies:
            for button in reply.buttons:
                assert len(button.payload.encode()) <= 64
    async with app.sessions() as db:
        incomplete = await db.scalar(
            select(func.count()).select_from(Application).where(Application.message == "")
        )
        assert incomplete == 0


async def test_a_failing_handler_rolls_back_everything(app, monkeypatch):
    async def write_then_fail(ctx: Context) -> list[Reply]:
        from storage.jobs import add_alert

        await add_alert(ctx.db, ctx.user.id, field="it", district=None, employment_type=None)
        raise RuntimeError("boom")

    monkeypatch.setitem(
        registry.intents, "thanks", type(registry.intents["thanks"])(write_then_fail, [], 0)
    )
    event = Incoming(
        platform="console",
        chat_id="f",
        user_id="f",
        event_id="fail-1",
        text="danke dir",
        locale="en",
    )
    replies = await app.dispatcher.handle(event)
    assert replies[0].text == translator("en")("error.internal")
    async with app.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(JobAlert)) == 0
        assert await db.scalar(select(func.count()).select_from(User)) == 0
    monkeypatch.undo()
    retried = await app.dispatcher.handle(event)
    assert retried and retried[0].text != translator("en")("error.internal"), (
        "the failed event was not marked processed, so a redelivery is handled"
    )


async def test_a_number_presses_the_offered_button(chat):
    await chat.say("hallo")
    assert chat.labels()[0] == "Jobs suchen"
    await chat.say("1")
    assert "offene Stellen" in chat.turns[-1][0].text
