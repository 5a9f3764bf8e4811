"""An ordinary turn is one short write transaction of at most six SQL statements (issue 15).

Counted with SQLAlchemy's engine events on SQLite and PostgreSQL: the dedup INSERT … ON
CONFLICT DO NOTHING, one SELECT for identity, user, roles and the chat's state, the state
UPDATE when it changed, the journaled answer INSERTed once, and acknowledgements of sent
answers riding along. SQLite's BEGIN IMMEDIATE goes to the driver directly, as PostgreSQL's
BEGIN does (asyncpg sends it itself): neither counts as a statement; on SQLite it is checked
at the driver. There the statements take two trips to the database thread: BEGIN and the
dedup INSERT with the SELECT, the writes with the commit.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import session as asyncio_session

from bot.app import App, create_app
from bot.dispatcher import Replies
from bot.messages import Incoming, Reply, flat_buttons
from nlu import EmbeddedNLU
from storage import outbox
from storage.base import utcnow
from storage.conversations import ConversationState, ProcessedEvent, open_turn
from storage.sqlite_connection import OneTripConnection
from storage.users import Identity, RoleGrant, User
from tests.conftest import make_config

MAX_STATEMENTS = 6
WRITES = ("INSERT", "UPDATE", "DELETE")
DATA_MODIFYING = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@dataclass
class Counted:
    """SQL of a stretch of work: statements and the transactions that ended."""

    statements: list[str] = field(default_factory=list)
    transactions: int = 0
    write_transactions: int = 0


class SQLCounter:
    """Counts statements and committed (write) transactions of an engine while active."""

    def __init__(self, app: App) -> None:
        self.now: Counted | None = None
        self._writing: set[int] = set()
        sync = app.engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._statement)
        event.listen(sync, "commit", self._commit)
        event.listen(sync, "rollback", self._rollback)

    def _statement(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self.now is None:
            return
        kind = statement.split(None, 1)[0].upper()
        if kind == "WITH" and DATA_MODIFYING.search(statement):
            # PostgreSQL: "WITH INSERT" is the dedup INSERT inside the turn's SELECT, "WITH
            # UPDATE INSERT UPDATE" the turn's held writes in one statement
            kind = " ".join(["WITH", *(verb.upper() for verb in
                                       DATA_MODIFYING.findall(statement))])
        self.now.statements.append(kind)
        if kind in WRITES or kind.startswith("WITH "):
            self._writing.add(id(conn))

    def _commit(self, conn: Any) -> None:
        if self.now is not None:
            self.now.transactions += 1
            if id(conn) in self._writing:
                self.now.write_transactions += 1
        self._writing.discard(id(conn))

    def _rollback(self, conn: Any) -> None:
        self._writing.discard(id(conn))

    async def count(self, app: App, incoming: Incoming) -> tuple[list[Reply], Counted]:
        """Handle one incoming, counting what it sent to the database."""
        self.now = counted = Counted()
        try:
            replies = await app.dispatcher.handle(incoming)
        finally:
            self.now = None
        return replies, counted

    async def turn(self, app: App, incoming: Incoming) -> tuple[Replies, Counted]:
        """count() of a turn that answers (its replies journaled, to be acknowledged)."""
        replies, counted = await self.count(app, incoming)
        assert isinstance(replies, Replies)
        return replies, counted

    async def turn_acknowledging(self, app: App, sent: Replies,
                                 incoming: Incoming) -> tuple[Replies, Counted]:
        """turn() while the acknowledgement of sent waits to ride along in it."""
        ack = asyncio.create_task(sent.ack())
        await asyncio.sleep(0)
        result = await self.turn(app, incoming)
        await asyncio.wait_for(ack, 5)
        return result


@pytest.fixture
async def durable_app(
    database_url: str, tmp_path: Path, nlu_model: EmbeddedNLU
) -> AsyncIterator[App]:
    application = await create_app(make_config(tmp_path, database_url), nlu=nlu_model)
    application.dispatcher.durable = {"fake"}
    application.dispatcher.sent_marks.linger = 60.0  # acks ride along with a turn only
    yield application
    await application.close()


def _say(text: str, event_id: str, user: str = "u1") -> Incoming:
    return Incoming(
        platform="fake",
        chat_id=f"chat-{user}",
        user_id=user,
        event_id=event_id,
        text=text,
        locale="de",
    )


def inserts(counted: Counted) -> int:
    """The INSERTs counted, those inside PostgreSQL's WITH statements included."""
    return sum(kind.split().count("INSERT") for kind in counted.statements)


async def _statuses(app: App) -> list[str]:
    async with app.sessions() as db:
        return list(await db.scalars(select(outbox.OutboxMessage.status)))


async def test_an_ordinary_turn_is_one_write_transaction_of_few_statements(
    durable_app: App,
) -> None:
    counter = SQLCounter(durable_app)
    first, _ = await counter.turn(durable_app, _say("hallo", "e0"))  # first contact
    assert first
    async with durable_app.sessions() as db, db.begin():
        user_id = await db.scalar(select(User.id))
        db.add(RoleGrant(user_id=user_id, role="employer", org="Pflegedienst Nord"))
    for n, text in enumerate(["/help", "hallo", "danke", "/help"], 1):
        replies, counted = await counter.turn(durable_app, _say(text, f"e{n}"))
        assert replies, f"{text!r} got an answer"
        assert counted.transactions == 1, f"{text!r}: {counted}"
        assert counted.write_transactions == 1, f"{text!r}: {counted}"
        assert len(counted.statements) <= MAX_STATEMENTS, f"{text!r}: {counted.statements}"
        if durable_app.engine.dialect.name == "postgresql":
            assert counted.statements[0] == "WITH INSERT", (
                "the event id, identity, user, roles and state in one statement")
            assert inserts(counted) == 2, "the event id and the journaled answer (alone or held)"
            assert "SELECT" not in counted.statements
        else:
            assert counted.statements.count("INSERT") == 2, "the event id and the journaled answer"
            assert counted.statements.count("SELECT") == 1, "identity, user, roles, state at once"
        assert "SAVEPOINT" not in counted.statements


async def test_a_turns_session_calls_start_no_greenlet_each(
    durable_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The turn runs in one greenlet (storage/turn_session.py): its execute, flush, begin,
    commit and close call the synchronous Session directly instead of starting a greenlet
    each."""
    spawned: list[str] = []
    original = asyncio_session.greenlet_spawn

    async def counting(fn: Any, *args: Any, **kw: Any) -> Any:
        spawned.append(getattr(fn, "__name__", repr(fn)))
        return await original(fn, *args, **kw)

    await durable_app.dispatcher.handle(_say("hallo", "g0"))  # first contact
    monkeypatch.setattr(asyncio_session, "greenlet_spawn", counting)
    replies = await durable_app.dispatcher.handle(_say("/help", "g1"))
    assert replies
    assert spawned == []
    async with durable_app.sessions() as db:  # outside a turn: an AsyncSession as ever
        await db.scalar(select(User.id))
    assert spawned.count("scalar") == 1


async def test_a_waiting_ack_rides_along_in_the_next_turns_transaction(
    durable_app: App,
) -> None:
    counter = SQLCounter(durable_app)
    first, _ = await counter.turn(durable_app, _say("hallo", "e0"))
    second, counted = await counter.turn_acknowledging(durable_app, first, _say("/help", "e1"))
    assert counted.write_transactions == 1 and counted.transactions == 1, counted
    assert len(counted.statements) <= MAX_STATEMENTS, counted.statements
    assert sorted(await _statuses(durable_app)) == ["sending", "sent"]
    assert second


async def test_last_seen_is_written_at_most_once_a_minute(durable_app: App) -> None:
    counter = SQLCounter(durable_app)
    await counter.turn(durable_app, _say("hallo", "e0"))
    _, counted = await counter.turn(durable_app, _say("/help", "e1"))
    assert counted.statements.count("UPDATE") <= 1, "no last_seen_at write within the minute"
    long_ago = utcnow() - timedelta(minutes=5)
    async with durable_app.sessions() as db, db.begin():
        await db.execute(update(Identity).values(last_seen_at=long_ago))
        await db.execute(update(User).values(last_seen_at=long_ago))
    await counter.turn(durable_app, _say("/help", "e2"))
    async with durable_app.sessions() as db:
        identity = await db.scalar(select(Identity))
        user = await db.scalar(select(User))
    assert identity is not None and user is not None
    assert identity.last_seen_at > utcnow() - timedelta(minutes=1)
    assert user.last_seen_at > utcnow() - timedelta(minutes=1)


async def test_a_redelivered_event_has_no_second_effect(durable_app: App) -> None:
    counter = SQLCounter(durable_app)
    replies, _ = await counter.turn(durable_app, _say("hallo", "same"))
    assert replies
    again = await durable_app.dispatcher.handle(_say("hallo", "same"))
    assert list(again) == []
    async with durable_app.sessions() as db:
        assert len(list(await db.scalars(select(ProcessedEvent)))) == 1
    assert await _statuses(durable_app) == ["sending"], "one journaled answer"


async def test_first_contact_inserts_user_and_identity_and_no_empty_state(
    durable_app: App,
) -> None:
    counter = SQLCounter(durable_app)
    replies, counted = await counter.turn(durable_app, _say("danke", "e0"))  # no buttons
    assert replies and not any(reply.buttons for reply in replies)
    assert counted.write_transactions == 1, counted
    assert "UPDATE" not in counted.statements, "language source set on insert, not after"
    assert inserts(counted) == 4, "event id, user, identity, answer"
    async with durable_app.sessions() as db:
        user = await db.scalar(select(User))
        assert user is not None and user.language_source == "platform"
        assert await db.scalar(select(ConversationState.id)) is None, "an empty state: no row"
    replies, counted = await counter.turn(durable_app, _say("hallo", "e1"))  # buttons offered
    assert any(reply.buttons for reply in replies)
    assert inserts(counted) == 3, "event id, the state, answer"
    async with durable_app.sessions() as db:
        state = await db.scalar(select(ConversationState))
        assert state is not None and state.data["buttons"], "the offered buttons are kept"


async def test_on_sqlite_a_turn_writes_with_its_commit(
    durable_app: App, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("trips to a database thread are aiosqlite's (storage/sqlite_connection.py)")
    counter = SQLCounter(durable_app)
    first, _ = await counter.turn(durable_app, _say("hallo", "e0"))
    await counter.turn(durable_app, _say("danke", "e1"))  # the chat's state exists now
    trips: list[str] = []
    begins: list[str | None] = []
    execute = OneTripConnection._execute

    async def counting(self: OneTripConnection, function: Any, *args: Any) -> Any:
        trips.append(getattr(function, "__name__", "?"))
        # OneTripConnection.run's trips: (sqlite3 connection, waiting BEGIN, waiting writes, …)
        begins.append(args[1] if len(args) > 1 else None)
        return await execute(self, function, *args)

    async with durable_app.sessions() as db:
        before = await db.scalar(select(ConversationState))
    assert before is not None
    monkeypatch.setattr(OneTripConnection, "_execute", counting)
    second, counted = await counter.turn_acknowledging(durable_app, first, _say("hallo", "e2"))
    assert counted.statements == ["INSERT", "SELECT", "UPDATE", "INSERT", "UPDATE"]
    assert begins == ["BEGIN IMMEDIATE", None], "the write lock taken in the first trip"
    assert trips == ["_run", "_commit"], (
        "BEGIN and the dedup INSERT with the turn's SELECT, then the state UPDATE, the "
        "journal INSERT and the ack UPDATE with the commit"
    )
    assert sorted(await _statuses(durable_app)) == ["sending", "sending", "sent"]
    async with durable_app.sessions() as db:
        after = await db.scalar(select(ConversationState))
    assert after is not None and after.updated_at > before.updated_at, "the state was stored"
    assert after.data.get("buttons") == [[b.label, b.payload] for b in flat_buttons(second)]


async def test_on_postgresql_a_turn_records_and_reads_in_one_statement(
    durable_app: App, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no INSERT inside a WITH; there both go in one trip instead")
    counter = SQLCounter(durable_app)
    first, _ = await counter.turn(durable_app, _say("hallo", "e0"))
    await counter.turn(durable_app, _say("danke", "e1"))  # the chat's state exists now
    second, counted = await counter.turn_acknowledging(durable_app, first, _say("hallo", "e2"))
    assert second
    assert counted.statements == ["WITH INSERT", "WITH UPDATE INSERT UPDATE"], (
        "the dedup INSERT with the turn's SELECT; the state UPDATE, the journal INSERT and "
        "the ack UPDATE held and sent as one statement (storage/held_writes.py)"
    )
    again, redelivery = await counter.count(durable_app, _say("hallo", "e2"))
    assert list(again) == [] and redelivery.statements == ["WITH INSERT"], "a redelivery"
    async with durable_app.sessions() as db:
        assert len(list(await db.scalars(select(ProcessedEvent)))) == 3


async def test_one_event_in_two_transactions_at_once_is_handled_once(durable_app: App) -> None:
    async def second_turn(event_id: str) -> bool:
        async with durable_app.sessions() as db, db.begin():
            return await open_turn(db, "fake", event_id, "u1", "chat-u1", language="de") is not None

    for first_commits in (True, False):
        event_id = f"twice-{first_commits}"
        second = None
        try:
            async with durable_app.sessions() as db, db.begin():
                assert await open_turn(db, "fake", event_id, "u1", "chat-u1", language="de")
                second = asyncio.create_task(second_turn(event_id))
                await asyncio.sleep(0.3)
                assert not second.done(), "the other transaction waits for this one"
                if not first_commits:
                    raise LookupError("this turn fails")
        except LookupError:
            pass
        assert second is not None
        handled_again = await asyncio.wait_for(second, 10)
        assert handled_again is not first_commits, (
            "a committed event is not handled again; a rolled-back one is handled by the other"
        )


async def test_a_first_contacts_user_and_identity_take_one_trip(
    durable_app: App, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """storage/users.py create_user: on SQLite the user's INSERT rides along with the
    identity's, the new chat's state INSERT with the commit (three trips for the whole first
    turn); on PostgreSQL user and identity are one statement, the state is held and goes with
    the journal INSERT."""
    counter = SQLCounter(durable_app)
    trips: list[str] = []
    execute = OneTripConnection._execute

    async def counting(self: OneTripConnection, function: Any, *args: Any) -> Any:
        trips.append(getattr(function, "__name__", "?"))
        return await execute(self, function, *args)

    monkeypatch.setattr(OneTripConnection, "_execute", counting)
    replies, counted = await counter.turn(durable_app, _say("hallo", "e0"))
    assert any(reply.buttons for reply in replies), "buttons offered: the state is stored"
    assert counted.write_transactions == 1, counted
    if database_url.startswith("postgresql"):
        assert counted.statements == ["WITH INSERT", "WITH INSERT INSERT", "WITH INSERT INSERT"]
    else:
        assert counted.statements == ["INSERT", "SELECT", "INSERT", "INSERT", "INSERT", "INSERT"]
        assert trips == ["_run", "_run", "_commit"], (
            "BEGIN, the dedup INSERT and the turn's SELECT; the user's and the identity's "
            "INSERT; the state's and the journal's INSERT with the commit")
    async with durable_app.sessions() as db:
        identity = await db.scalar(select(Identity))
        user = await db.scalar(select(User))
        state = await db.scalar(select(ConversationState))
    assert identity is not None and user is not None and identity.user_id == user.id
    assert identity.private_chat_id == "chat-u1" and user.language_source == "platform"
    assert state is not None and (state.user_id, state.chat_id) == (user.id, "chat-u1")
    assert state.data["buttons"] == [[b.label, b.payload] for b in flat_buttons(replies)]
