"""PostgreSQL: the writes that end a turn wait and go as one statement (storage/held_writes.py)
– before the commit, or before anything else the session sends; a rollback drops them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.messages import Reply
from storage import outbox
from storage.base import utcnow
from storage.conversations import ConversationState, save_state
from storage.held_writes import HeldAcrossSavepoint, combined, hold_writes, holds
from storage.outbox import OutboxMessage
from storage.turn_session import in_one_greenlet
from storage.users import create_user


def test_parts_are_renumbered_after_the_ones_before() -> None:
    held = [("UPDATE a SET x=$1::INTEGER WHERE id = $2::INTEGER", (1, 2)),
            ("INSERT INTO b (y, z) VALUES ($1::VARCHAR, $2::VARCHAR)", ("p", "q")),
            ("UPDATE c SET w=$1::JSON WHERE k = $2::VARCHAR", ("{}", "k"))]
    sql, arguments = combined(held)
    assert sql == ("WITH w1 AS (UPDATE a SET x=$1::INTEGER WHERE id = $2::INTEGER), "
                   "w2 AS (INSERT INTO b (y, z) VALUES ($3::VARCHAR, $4::VARCHAR)) "
                   "UPDATE c SET w=$5::JSON WHERE k = $6::VARCHAR")
    assert arguments == (1, 2, "p", "q", "{}", "k")
    assert combined(held[:1]) == held[0], "one write goes as it is"


@pytest.fixture
def statements(bare_sessions: async_sessionmaker[AsyncSession]) -> Iterator[list[str]]:
    """The SQL the engine sends, statement by statement, while the test runs."""
    sent: list[str] = []
    engine = bare_sessions.kw["bind"].sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def writes(statements: list[str]) -> list[str]:
    """The statements that write."""
    return [s for s in statements if s.lstrip().startswith(("UPDATE", "INSERT", "WITH"))]


async def a_user_with_a_state(bare_sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """(user id, state id) of a new user with a stored chat state."""
    async with bare_sessions() as db, db.begin():
        user = await create_user(db, "telegram", "u1", language="de")
        state = ConversationState(platform="telegram", chat_id="c1", user_id=user.id,
                                  data={"step": 1})
        db.add(state)
        await db.flush()
        return user.id, state.id


async def the_turns_writes(db: AsyncSession, user_id: int, state_id: int) -> None:
    """As the dispatcher ends a turn: hold, the state, the journal, an earlier answer's ack."""
    state = await db.get(ConversationState, state_id)
    assert state is not None
    hold_writes(db)
    await save_state(db, state, {"step": 2, "buttons": [["1 Details", "job:1"]]})
    await outbox.journal_direct(db, platform="telegram", recipient="c1", user_id=user_id,
                                replies=[Reply("Antwort – ü")], dedup_key="reply:2",
                                claimed_until=utcnow())
    await outbox.mark_sent_many(db, ["reply:1"])


async def journaled(bare_sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    """Status of each journal row, by dedup key."""
    async with bare_sessions() as db:
        rows = await db.execute(select(OutboxMessage.dedup_key, OutboxMessage.status))
        return {key: status for key, status in rows if key is not None}


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_writes_that_end_a_turn_go_as_one_statement_before_the_commit(
    bare_sessions: async_sessionmaker[AsyncSession], statements: list[str]
) -> None:
    user_id, state_id = await a_user_with_a_state(bare_sessions)
    async with bare_sessions() as db, db.begin():
        await outbox.journal_direct(db, platform="telegram", recipient="c1", user_id=user_id,
                                    replies=[Reply("vorher")], dedup_key="reply:1",
                                    claimed_until=utcnow())

    async def turn() -> None:
        async with bare_sessions() as db, db.begin():
            await the_turns_writes(db, user_id, state_id)
            assert holds(db.sync_session)
            assert writes(statements) == [], "held, not sent yet"
        assert not holds(db.sync_session), "the transaction's end ends holding"

    statements.clear()
    await in_one_greenlet(turn())
    sent = writes(statements)
    assert len(sent) == 1, sent
    assert sent[0].startswith("WITH w1 AS (UPDATE") and " w2 AS (INSERT" in sent[0]
    async with bare_sessions() as db:
        state = await db.get(ConversationState, state_id)
        row = await db.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == "reply:2"))
    assert state is not None and state.data == {"step": 2, "buttons": [["1 Details", "job:1"]]}
    assert row is not None and row.user_id == user_id and row.recipient == "c1"
    assert outbox.deserialise(row.payload)[0].text == "Antwort – ü"
    assert row.status == outbox.SENDING and row.claimed_by == "direct"
    assert await journaled(bare_sessions) == {"reply:1": outbox.SENT, "reply:2": outbox.SENDING}


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_held_writes_go_before_the_sessions_next_statement_or_flush(
    bare_sessions: async_sessionmaker[AsyncSession], statements: list[str]
) -> None:
    user_id, state_id = await a_user_with_a_state(bare_sessions)

    async def turn() -> None:
        async with bare_sessions() as db, db.begin():
            await the_turns_writes(db, user_id, state_id)
            data = await db.scalar(text("SELECT data::text FROM conversation_states"))
            assert data is not None and '"step": 2' in data, "a read sees the held write"
            await outbox.journal_direct(db, platform="telegram", recipient="c1",
                                        user_id=user_id, replies=[Reply("noch eine")],
                                        dedup_key="reply:3", claimed_until=utcnow())
            db.add(ConversationState(platform="telegram", chat_id="c2", user_id=user_id,
                                     data={}))
            statements.clear()
            await db.flush()  # the held journal row goes before the flush's INSERT
            sent = writes(statements)
            assert len(sent) == 2 and "INTO outbox" in sent[0], sent
            assert "INTO conversation_states" in sent[1], sent

    await in_one_greenlet(turn())
    assert await journaled(bare_sessions) == {"reply:2": outbox.SENDING, "reply:3": outbox.SENDING}


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_rollback_drops_the_held_writes(
    bare_sessions: async_sessionmaker[AsyncSession], statements: list[str]
) -> None:
    user_id, state_id = await a_user_with_a_state(bare_sessions)

    async def failing_turn() -> None:
        async with bare_sessions() as db, db.begin():
            await the_turns_writes(db, user_id, state_id)
            raise RuntimeError("the turn fails after its writes")

    statements.clear()
    with pytest.raises(RuntimeError):
        await in_one_greenlet(failing_turn())
    assert writes(statements) == [], "nothing held was sent"
    async with bare_sessions() as db:
        state = await db.get(ConversationState, state_id)
        assert state is not None and state.data == {"step": 1}
        assert not holds(db.sync_session)
    assert await journaled(bare_sessions) == {}


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_holding_and_savepoints_do_not_mix(
    bare_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A rollback to a savepoint could not undo a held write: either order raises, and the
    turn leaves nothing."""
    user_id, state_id = await a_user_with_a_state(bare_sessions)

    async def savepoint_while_holding() -> None:
        async with bare_sessions() as db, db.begin():
            await the_turns_writes(db, user_id, state_id)
            async with db.begin_nested():
                pass

    async def holding_inside_a_savepoint() -> None:
        async with bare_sessions() as db, db.begin(), db.begin_nested():
            hold_writes(db)

    for stretch in (savepoint_while_holding, holding_inside_a_savepoint):
        with pytest.raises(HeldAcrossSavepoint):
            await in_one_greenlet(stretch())
    assert await journaled(bare_sessions) == {}


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_session_without_the_hooks_holds_nothing(
    bare_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Only citybot's sessions can send held writes; a plain AsyncSession writes at once."""
    user_id, state_id = await a_user_with_a_state(bare_sessions)

    async def turn() -> bool:
        async with AsyncSession(bare_sessions.kw["bind"]) as db, db.begin():
            await the_turns_writes(db, user_id, state_id)
            return holds(db.sync_session)

    assert await in_one_greenlet(turn()) is False
    assert await journaled(bare_sessions) == {"reply:2": outbox.SENDING}


async def test_sqlite_holds_nothing_its_writes_ride_with_the_next_trip(
    bare_sessions: async_sessionmaker[AsyncSession]
) -> None:
    user_id, state_id = await a_user_with_a_state(bare_sessions)

    async def turn() -> bool:
        async with bare_sessions() as db, db.begin():
            await the_turns_writes(db, user_id, state_id)
            return holds(db.sync_session)

    holding = await in_one_greenlet(turn())
    dialect = bare_sessions.kw["bind"].dialect.name
    assert holding == (dialect == "postgresql")
    assert await journaled(bare_sessions) == {"reply:2": outbox.SENDING}
