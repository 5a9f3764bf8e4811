"""Conversation state per chat and the ids of processed platform events (dedup)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    and_,
    bindparam,
    delete,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, joinedload, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from storage.base import Base, UTCDateTime, dialect_of, insert_new_into, utcnow
from storage.compiled_writes import execute_write
from storage.privacy import exporter
from storage.sqlite_connection import WITH_NEXT_TRIP
from storage.users import Identity, User, create_user, touch


class ConversationState(Base):
    """What a chat is in the middle of: an open form, the buttons last offered, a search."""

    __tablename__ = "conversation_states"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ProcessedEvent(Base):
    """A platform event that was handled; a redelivery of it has no second effect.

    The dispatcher stores a keyed hash of the platform's event id (bot/keys.py), never the
    id itself: Telegram's event ids contain the chat id, which is the user's id.
    """

    __tablename__ = "processed_events"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # random, of the transaction that recorded the event: a later read in that transaction
    # tells by it whether the row is its own (new event) or was there before (a redelivery)
    token: Mapped[str | None] = mapped_column(String(16))


async def record_event(db: AsyncSession, platform: str, event_id: str) -> str:
    """Record the event id inside the current transaction unless it is there; returns the
    token this transaction wrote with it.

    One INSERT … ON CONFLICT DO NOTHING (a concurrent turn of the same event in another
    process waits for this one's commit). Whether the row is this transaction's is read
    afterwards, by its token (open_turn); so nothing reads the INSERT's
    outcome and on SQLite it rides along with that read's trip.
    """
    token = secrets.token_hex(8)
    values = {"platform": platform, "event_id": event_id, "processed_at": utcnow(),
              "token": token}
    await execute_write(db, _record_statement(dialect_of(db)), values)
    return token


@cache
def _record_statement(dialect: str) -> Any:
    """The dedup INSERT, built once per dialect; its values are bound when it runs (Core on
    the table: no statement building, cache key or ORM bulk path on every turn)."""
    return insert_new_into(dialect, ProcessedEvent.__table__).prefix_with(WITH_NEXT_TRIP)


@dataclass
class Turn:
    """What a turn starts from: the user (roles loaded) and this chat's state."""

    user: User
    state: ConversationState


async def open_turn(
    db: AsyncSession,
    platform: str,
    event_id: str,
    external_id: str,
    chat_id: str,
    *,
    language: str,
    language_source: str | None = None,
    display_name: str | None = None,
    group: bool = False,
) -> Turn | None:
    """A turn's start: the event recorded, then its token, the identity, user, role grants
    and the chat's state in one SELECT (on SQLite both in one trip, on PostgreSQL in one
    statement); None for an event that was processed before.

    A chat seen for the first time gets an empty state outside the session (an empty state
    is stored as no row: the dispatcher adds it when the turn leaves something in it); a user
    seen for the first time is created (storage/users.py) with language and language_source
    as given. Keeps `last_seen_at` and the private chat as `get_or_create_user` does.
    """
    keys = {"platform": platform, "event_id": event_id, "external_id": external_id,
            "chat_id": chat_id}
    if dialect_of(db) == "postgresql":
        token = secrets.token_hex(8)
        row = (await db.execute(_recorded_turn_statement(),
                                {**keys, "processed_at": utcnow(), "token": token})
               ).unique().first()
        if row is None:  # the INSERT did nothing: the event was there
            return None
    else:
        token = await record_event(db, platform, event_id)
        row = (await db.execute(_turn_statement(), keys)).unique().first()
        if row is None:  # the INSERT above leaves a row or fails: never here
            raise RuntimeError("the recorded event is not there")
    stored, identity, user, state = row
    if stored != token:
        return None
    private_chat = None if group else (chat_id or external_id)
    if identity is None:
        user = await create_user(
            db,
            platform,
            external_id,
            language=language,
            language_source=language_source,
            display_name=display_name,
            private_chat=private_chat,
        )
        state = None
    else:
        touch(identity, user, display_name=display_name, private_chat=private_chat)
    if state is None:  # not in the session yet: the dispatcher adds it once it holds something
        state = ConversationState(platform=platform, chat_id=chat_id, user_id=user.id, data={})
    return Turn(user, state)


_PLATFORM = bindparam("platform")  # one parameter wherever the turn's statements use it


@cache
def _turn_statement() -> Any:
    """open_turn's SELECT, built once; platform, event_id, external_id and chat_id bound when
    it runs. It starts from the event's row, which exists: a new user's row is all NULLs."""
    return _with_user_and_state(ProcessedEvent.token, ProcessedEvent).where(
        ProcessedEvent.platform == _PLATFORM, ProcessedEvent.event_id == bindparam("event_id"))


@cache
def _recorded_turn_statement() -> Any:
    """PostgreSQL: the dedup INSERT and open_turn's SELECT as one statement (one round trip),
    built once; also processed_at and token bound when it runs.

    The INSERT … ON CONFLICT DO NOTHING RETURNING token is a CTE the SELECT starts from: a
    new event gives one row (a new user's all NULLs but the token), an event that was there
    none. A concurrent turn of the same event waits for the other's commit, as before.
    """
    table = ProcessedEvent.__table__
    recorded = (
        insert_new_into("postgresql", table)
        .values(platform=_PLATFORM, event_id=bindparam("event_id"),
                processed_at=bindparam("processed_at", type_=table.c.processed_at.type),
                token=bindparam("token"))
        .returning(table.c.token)
        .cte("recorded")
    )
    return _with_user_and_state(recorded.c.token, recorded)


def _with_user_and_state(token: Any, start: Any) -> Any:
    """SELECT token, identity, user (roles loaded) and the chat's state, from start."""
    return (
        select(token, Identity, User, ConversationState)
        .select_from(start)
        .outerjoin(
            Identity,
            and_(Identity.platform == _PLATFORM, Identity.external_id == bindparam("external_id")),
        )
        .outerjoin(User, User.id == Identity.user_id)
        .outerjoin(
            ConversationState,
            and_(
                ConversationState.user_id == User.id,
                ConversationState.platform == _PLATFORM,
                ConversationState.chat_id == bindparam("chat_id"),
            ),
        )
        .options(joinedload(User.roles))
    )


async def save_state(db: AsyncSession, state: ConversationState, data: dict[str, Any]) -> None:
    """Keep what the turn leaves in the chat's state.

    A stored state that changed is one Core UPDATE whose outcome nobody reads, a new chat's
    state (once it holds something) one Core INSERT: on SQLite either rides along with the
    transaction's next trip, usually the commit; on PostgreSQL it is held and goes with the
    turn's other writes (storage/held_writes.py). Nothing reads a new state's id in its turn.
    """
    if inspect(state).persistent:
        if data != state.data:
            now = utcnow()
            await execute_write(db, _state_statement(), {"state_id": state.id, "new_data": data,
                                                         "now": now})
            set_committed_value(state, "data", data)
            set_committed_value(state, "updated_at", now)
        return
    state.data = data
    if data and state not in db:
        await execute_write(db, _new_state_statement(), {
            "platform": state.platform, "chat_id": state.chat_id, "user_id": state.user_id,
            "new_data": data, "now": utcnow()})


@cache
def _new_state_statement() -> Any:
    """save_state's INSERT of a new chat's state, built once; bound when it runs."""
    table = ConversationState.__table__
    return (
        insert(table)
        .prefix_with(WITH_NEXT_TRIP)
        .values(platform=_PLATFORM, chat_id=bindparam("chat_id"), user_id=bindparam("user_id"),
                **_data_and_time())
    )


@cache
def _state_statement() -> Any:
    """save_state's UPDATE, built once; the state's id, data and time bound when it runs."""
    table = ConversationState.__table__
    return (
        update(table)
        .prefix_with(WITH_NEXT_TRIP)
        .where(table.c.id == bindparam("state_id"))
        .values(**_data_and_time())
    )


def _data_and_time() -> dict[str, Any]:
    """A stored state's data and time as the parameters new_data and now (INSERT and UPDATE)."""
    table = ConversationState.__table__
    return {"data": bindparam("new_data", type_=table.c.data.type),
            "updated_at": bindparam("now", type_=table.c.updated_at.type)}


async def forget_processed_before(
    db: AsyncSession, age: timedelta, now: datetime | None = None
) -> int:
    """Delete processed-event ids older than age; returns how many."""
    result = await db.execute(
        delete(ProcessedEvent).where(ProcessedEvent.processed_at < (now or utcnow()) - age)
    )
    return result.rowcount or 0


async def forget_states_before(
    db: AsyncSession, age: timedelta, now: datetime | None = None
) -> int:
    """Delete conversation states untouched for longer than age; returns how many."""
    cutoff = (now or utcnow()) - age
    result = await db.execute(
        delete(ConversationState).where(ConversationState.updated_at < cutoff)
    )
    return result.rowcount or 0


async def load_state(
    db: AsyncSession, platform: str, chat_id: str, user_id: int
) -> ConversationState:
    """The state of this chat for this user, created empty if there is none."""
    state = await db.scalar(
        select(ConversationState).where(
            ConversationState.platform == platform,
            ConversationState.chat_id == chat_id,
            ConversationState.user_id == user_id,
        )
    )
    if state is None:
        state = ConversationState(platform=platform, chat_id=chat_id, user_id=user_id, data={})
        db.add(state)
        await db.flush()
    return state


async def states_of(db: AsyncSession, user_id: int) -> list[ConversationState]:
    """Every conversation state of a user (for data export)."""
    return list(
        await db.scalars(select(ConversationState).where(ConversationState.user_id == user_id))
    )


@exporter("conversations")
async def export_states(db: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """The user's open conversation states."""
    return [
        {
            "platform": s.platform,
            "chat_id": s.chat_id,
            "state": s.data,
            "updated_at": s.updated_at.isoformat(),
        }
        for s in await states_of(db, user_id)
    ]
