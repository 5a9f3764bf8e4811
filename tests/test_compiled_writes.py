"""The hot path's writes compiled once (storage/compiled_writes.py) store exactly what the
session's own execution stores, on SQLite and PostgreSQL, inside the turn's greenlet and out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.messages import Button, Reply
from storage import outbox
from storage.base import utcnow
from storage.compiled_writes import execute_write, write_plan
from storage.conversations import (
    ConversationState,
    _record_statement,
    _state_statement,
    record_event,
    save_state,
)
from storage.outbox import OutboxMessage, _journal_statement, _sent_statement
from storage.turn_session import in_one_greenlet
from storage.users import create_user

Write = Callable[[AsyncSession, Any, dict[str, Any]], Awaitable[None]]


async def through_session(db: AsyncSession, statement: Any, values: dict[str, Any]) -> None:
    """The reference: the statement through the session's own execution."""
    await db.execute(statement, values)


async def compiled_in_greenlet(db: AsyncSession, statement: Any, values: dict[str, Any]) -> None:
    """As the dispatcher's turns run it: inside one greenlet."""
    await in_one_greenlet(execute_write(db, statement, values))


WAYS: list[tuple[str, Write]] = [("compiled, in the turn's greenlet", compiled_in_greenlet),
                                 ("compiled, outside a greenlet", execute_write)]


def engine_of(bare_sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine the factory's bare_sessions are bound to."""
    bind = bare_sessions.kw["bind"]
    assert isinstance(bind, AsyncEngine)
    return bind


async def stored(db: AsyncSession, table: str, where: str, **values: Any) -> dict[str, Any]:
    """One row as the database keeps it (a textual SELECT: no type converts what it reads)."""
    rows = (await db.execute(text(f"SELECT * FROM {table} WHERE {where}"), values)).mappings()
    found = [dict(row) for row in rows]
    assert len(found) == 1, found
    return found[0]


def without(row: dict[str, Any], *columns: str) -> dict[str, Any]:
    """The row without the columns that differ between the two writes by design."""
    return {key: value for key, value in row.items() if key not in columns}


@pytest.mark.parametrize(("way", "write"), WAYS, ids=[way for way, _ in WAYS])
async def test_each_hot_path_write_stores_what_the_session_stores(
    bare_sessions: async_sessionmaker[AsyncSession], way: str, write: Write
) -> None:
    now = utcnow()
    dialect = engine_of(bare_sessions).dialect.name
    async with bare_sessions() as db, db.begin():
        user = await create_user(db, "telegram", "u1", language="de")
        states = [ConversationState(platform="telegram", chat_id=f"c{n}", user_id=user.id,
                                    data={"n": n}) for n in range(2)]
        db.add_all(states)
        await db.flush()
        user_id, state_ids = user.id, [state.id for state in states]
    replies = [Reply("Hallo <b>Anna</b> – ü", [Button("1 Details", "job:1")])]
    journal = {"platform": "telegram", "recipient": "c0", "user_id": user_id,
               "payload": outbox.serialise(replies), "priority": outbox.DIRECT,
               "status": outbox.SENDING, "attempts": 0, "not_before": now, "created_at": now,
               "claimed_by": "direct", "claimed_at": now + timedelta(minutes=10),
               "give_up_at": now + timedelta(hours=24)}
    new_data = {"buttons": [["1 Details", "job:1"]], "form": None, "umlaut": "Größe"}
    cases = [  # (statement, values of the reference row, of the compiled row, table, where)
        (_record_statement(dialect),
         {"platform": "telegram", "event_id": "e1", "processed_at": now, "token": "ab"},
         {"platform": "telegram", "event_id": "e2", "processed_at": now, "token": "ab"},
         "processed_events", "event_id = :key", ("e1", "e2"), ("event_id",)),
        (_state_statement(),
         {"state_id": state_ids[0], "new_data": new_data, "now": now},
         {"state_id": state_ids[1], "new_data": new_data, "now": now},
         "conversation_states", "id = :key", tuple(state_ids), ("id", "chat_id")),
        (_journal_statement(dialect), {**journal, "dedup_key": "reply:1"},
         {**journal, "dedup_key": "reply:2"},
         "outbox", "dedup_key = :key", ("reply:1", "reply:2"), ("id", "dedup_key")),
        (_sent_statement(expanding=False), {"key": "reply:1", "now": now},
         {"key": "reply:2", "now": now},
         "outbox", "dedup_key = :key", ("reply:1", "reply:2"), ("id", "dedup_key")),
    ]
    for statement, reference, compiled, table, where, keys, differing in cases:
        assert write_plan(statement, engine_of(bare_sessions).dialect, tuple(compiled)) is not None
        async with bare_sessions() as db, db.begin():
            await through_session(db, statement, reference)
            await write(db, statement, compiled)
        async with bare_sessions() as db:
            first = await stored(db, table, where, key=keys[0])
            second = await stored(db, table, where, key=keys[1])
        assert without(second, *differing) == without(first, *differing), (way, table)


async def test_a_plan_is_made_once_per_statement_dialect_and_value_names(
    bare_sessions: async_sessionmaker[AsyncSession]
) -> None:
    dialect = engine_of(bare_sessions).dialect
    names = ("state_id", "new_data", "now")
    plan = write_plan(_state_statement(), dialect, names)
    assert plan is not None
    assert write_plan(_state_statement(), dialect, names) is plan
    placeholder = "?" if dialect.name == "sqlite" else "$"
    assert plan.sql.count(placeholder) == len(plan.processors) == len(plan.names) == 3


async def test_writes_the_plan_cannot_cover_run_through_the_session(
    bare_sessions: async_sessionmaker[AsyncSession]
) -> None:
    dialect = engine_of(bare_sessions).dialect
    expanding = _sent_statement(expanding=True)
    with_defaults = insert(OutboxMessage.__table__)  # created_at, status … from Python defaults
    assert write_plan(expanding, dialect, ("keys", "now")) is None
    row = {"platform": "telegram", "recipient": "c9", "payload": [], "give_up_at": utcnow()}
    assert write_plan(with_defaults, dialect, tuple(row)) is None
    async with bare_sessions() as db, db.begin():
        await execute_write(db, with_defaults, {**row, "dedup_key": "a"})
        await execute_write(db, with_defaults, {**row, "dedup_key": "b"})
        await in_one_greenlet(execute_write(db, expanding, {"keys": ["a", "b"], "now": utcnow()}))
    async with bare_sessions() as db:
        messages = list(await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [(m.dedup_key, m.status, m.priority) for m in messages] == [
        ("a", outbox.SENT, outbox.NOTIFICATION), ("b", outbox.SENT, outbox.NOTIFICATION)]
    assert all(m.sent_at is not None and m.created_at is not None for m in messages)


async def test_a_failing_compiled_write_fails_its_transaction_and_leaves_nothing(
    bare_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """On SQLite the write waits for the transaction's next trip (here the commit) and its
    error comes with it; on PostgreSQL at once. Either way the whole turn is rolled back."""
    now = utcnow()

    async def turn() -> None:
        async with bare_sessions() as db, db.begin():
            await record_event(db, "telegram", "e-failing")
            await outbox.journal_direct(db, platform="telegram", recipient="c1", user_id=999_999,
                                        replies=[Reply("x")], dedup_key="reply:failing",
                                        claimed_until=now)  # no such user: a foreign key fails

    with pytest.raises(IntegrityError):
        await in_one_greenlet(turn())
    async with bare_sessions() as db:
        assert await db.scalar(text("SELECT count(*) FROM processed_events")) == 0
        assert await db.scalar(text("SELECT count(*) FROM outbox")) == 0


async def test_a_turn_of_compiled_writes_commits_them_in_order(
    bare_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The dedup INSERT, a state, the journal and its acknowledgement in one transaction, as
    a turn writes them: all there after the commit, the journal row marked sent."""
    async with bare_sessions() as db, db.begin():
        user = await create_user(db, "telegram", "u2", language="en")
        state = ConversationState(platform="telegram", chat_id="c2", user_id=user.id, data={})
        db.add(state)
        await db.flush()
        user_id = user.id

    async def turn() -> None:
        async with bare_sessions() as db, db.begin():
            loaded = await db.get(ConversationState, state.id)
            assert loaded is not None
            await record_event(db, "telegram", "e-ordered")
            await save_state(db, loaded, {"step": 2})
            await outbox.journal_direct(db, platform="telegram", recipient="c2", user_id=user_id,
                                        replies=[Reply("y")], dedup_key="reply:ordered",
                                        claimed_until=utcnow())
            await outbox.mark_sent_many(db, ["reply:ordered"])

    await in_one_greenlet(turn())
    async with bare_sessions() as db:
        saved = await db.get(ConversationState, state.id)
        journaled = await db.scalar(select(OutboxMessage))
        events = await db.scalar(text("SELECT count(*) FROM processed_events"))
    assert saved is not None and saved.data == {"step": 2}
    assert journaled is not None and journaled.status == outbox.SENT
    assert journaled.recipient == "" and journaled.payload == []
    assert events == 1
