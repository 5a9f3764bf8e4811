"""PostgreSQL: the writes that end a turn wait and go as one statement, one round trip.

On PostgreSQL every statement is a round trip to the server. A turn ends with three writes
whose outcome nobody reads, one after another: the chat state's UPDATE, the journal INSERT
of its answer and the UPDATE that marks earlier answers sent. Once the dispatcher calls
`hold_writes`, such writes (storage/compiled_writes.py) wait in the session and go together
as one statement of data-modifying CTEs – `WITH w1 AS (UPDATE …), w2 AS (INSERT …) UPDATE …`
– right before the commit: one round trip instead of three (on a database on another host,
two network round trips less per turn).

They go earlier when anything else comes first: a statement through the session (queries,
`get`, lazy loads), a flush. A rollback drops them; the transaction's end ends holding. All
parts of one statement see the same snapshot, so held writes must not touch the same rows
(a turn's do not: its chat's state, its answer's new journal row, earlier answers' rows).
Holding and savepoints do not mix (a rollback to a savepoint could not undo a held write):
either raises HeldAcrossSavepoint.
SQLite needs none of this: there such writes ride along with the connection's next trip
(storage/sqlite_connection.py).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

HOLDING = "citybot_holding_writes"  # session.info: the held writes, while holding
PLACEHOLDER = re.compile(r"\$(\d+)")  # PostgreSQL's numbered parameters: $1, $2, …
Held = list[tuple[str, tuple[Any, ...]]]


class TurnSyncSession(Session):
    """The synchronous Session behind citybot's sessions: held writes go before anything else."""


class HeldAcrossSavepoint(RuntimeError):
    """Held writes and a savepoint in one stretch: a rollback to it could not undo them."""


def hold_writes(db: AsyncSession) -> None:
    """From now until the transaction ends, combinable writes on PostgreSQL wait (and go as one
    statement before the commit or anything else the session sends). Not inside a savepoint,
    and no savepoint may begin while holding (HeldAcrossSavepoint). Only a TurnSyncSession
    holds (storage/db.py: session_factory): another session has no hooks to send them."""
    session = db.sync_session
    if not isinstance(session, TurnSyncSession) or db.get_bind().dialect.name != "postgresql":
        return
    if session.in_nested_transaction():
        raise HeldAcrossSavepoint("hold_writes inside a savepoint")
    session.info.setdefault(HOLDING, [])


def holds(session: Session) -> bool:
    """Whether the session is holding writes now."""
    return HOLDING in session.info


def hold(session: Session, sql: str, arguments: tuple[Any, ...]) -> None:
    """Keep a write (the driver's SQL with numbered parameters) until the session sends them."""
    session.info[HOLDING].append((sql, arguments))


def combinable(sql: str) -> bool:
    """Whether a write can be a part of one statement: no CTE of its own, no string literal (its
    parameters are renumbered), no result to read."""
    text = sql.lstrip().upper()
    return not text.startswith("WITH") and "'" not in sql and " RETURNING " not in text


def combined(held: Held) -> tuple[str, tuple[Any, ...]]:
    """The writes as one statement (each part's parameters renumbered after the ones before)."""
    if len(held) == 1:
        return held[0]
    parts: list[str] = []
    arguments: list[Any] = []
    for sql, values in held:
        parts.append(_renumbered(sql, len(arguments)))
        arguments.extend(values)
    ctes = ", ".join(f"w{n} AS ({part})" for n, part in enumerate(parts[:-1], 1))
    return f"WITH {ctes} {parts[-1]}", tuple(arguments)


def _renumbered(sql: str, offset: int) -> str:
    """The SQL with each parameter $n as $(n + offset)."""
    return PLACEHOLDER.sub(lambda number: f"${int(number.group(1)) + offset}", sql)


def send_held(session: Session) -> None:
    """Send the held writes now, as one statement (the session keeps holding)."""
    held = session.info.get(HOLDING)
    if held:
        session.info[HOLDING] = []
        sql, arguments = combined(held)
        session.connection().exec_driver_sql(sql, arguments)


@event.listens_for(TurnSyncSession, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    send_held(state.session)


@event.listens_for(TurnSyncSession, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    send_held(session)


@event.listens_for(TurnSyncSession, "before_commit")
def _before_commit(session: Session) -> None:
    send_held(session)


@event.listens_for(TurnSyncSession, "after_transaction_create")
def _no_savepoint_while_holding(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested and holds(session):
        raise HeldAcrossSavepoint("a savepoint while holding writes")


@event.listens_for(TurnSyncSession, "after_transaction_end")
def _after_transaction(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(HOLDING, None)
