"""Core writes of the hot path compiled once and run as their driver's SQL (exec_driver_sql).

A Core statement run through the session is compiled (or looked up in the compiled cache),
gets an execution context, its parameters are processed and its result set up, every time:
on this machine about 0.15 ms for an UPDATE whose outcome nobody reads. A turn has four such
writes (the dedup INSERT, the state's UPDATE, the journal INSERT, the acknowledgement's
UPDATE). Here each is compiled once per dialect and set of value names; a run only binds
the values through the types' own bind processors (JSON, times) and hands SQL and values to
the connection's `exec_driver_sql` – still through the engine, so its events (SQL logging,
statement counters) and error handling stay as they were. Less than half the cost.

A statement the plan cannot cover (Python-side defaults to fill in, expanding IN lists) runs
through the session as before. On PostgreSQL, the writes that end a turn wait and go as one
statement (storage/held_writes.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable
from sqlalchemy.util.concurrency import in_greenlet

from storage.held_writes import combinable, hold, holds

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class WritePlan:
    """A statement compiled for one dialect: its SQL, its parameters' order and processors."""

    sql: str
    compiled: Any
    names: tuple[str, ...]
    processors: tuple[Processor, ...]
    combinable: bool  # may be a part of one statement with others (storage/held_writes.py)

    def arguments(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The values in the driver's order, each through its type's bind processor."""
        bound = self.compiled.construct_params(values)
        return tuple(
            value if processor is None else processor(value)
            for value, processor in zip((bound[name] for name in self.names), self.processors,
                                        strict=True)
        )


_plans: dict[tuple[Any, ...], WritePlan | None] = {}


def write_plan(statement: Executable, dialect: Dialect, names: Sequence[str]) -> WritePlan | None:
    """The statement's plan for this dialect and these value names (made once), or None when it
    needs more than binding values (Python-side defaults, expanding or literal parameters)."""
    key = (statement, dialect.name, dialect.driver, tuple(names))
    if key not in _plans:
        _plans[key] = _compile(statement, dialect, names)
    return _plans[key]


def _compile(statement: Executable, dialect: Dialect, names: Sequence[str]) -> WritePlan | None:
    # compiled as for executemany: no implicit RETURNING of a new row's key (nobody reads it)
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(names),
                                      for_executemany=True)
    if (compiled.insert_prefetch or compiled.update_prefetch or compiled.post_compile_params
            or compiled.literal_execute_params or not compiled.positional):
        return None
    order = tuple(compiled.positiontup)
    processors = tuple(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in order
    )
    return WritePlan(compiled.string, compiled, order, processors, combinable(compiled.string))


async def execute_write(db: AsyncSession, statement: Executable,
                        values: Mapping[str, Any]) -> None:
    """Run a Core write whose outcome nobody reads, in the session's transaction.

    While the session holds writes (PostgreSQL, storage/held_writes.py) it waits there.
    Inside the turn's greenlet (storage/turn_session.py) the session's connection is called
    directly; elsewhere through the async connection.
    """
    bind = db.get_bind()
    plan = write_plan(statement, bind.dialect, tuple(values))
    if plan is None:
        await db.execute(statement, dict(values))
        return
    arguments = plan.arguments(values)
    if plan.combinable and holds(db.sync_session):
        hold(db.sync_session, plan.sql, arguments)
    elif in_greenlet():
        db.sync_session.connection().exec_driver_sql(plan.sql, arguments)
    else:
        connection = await db.connection()
        await connection.exec_driver_sql(plan.sql, arguments)
