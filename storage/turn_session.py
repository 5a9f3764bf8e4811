"""A turn in one greenlet: its session calls skip SQLAlchemy's greenlet per call.

SQLAlchemy's AsyncSession runs every call (execute, get, flush, commit, close) in a new
greenlet of its own, in which the synchronous Session awaits the driver through
`await_`. That costs about 60–70 µs per call, several times a turn. `in_one_greenlet`
runs a whole coroutine (the dispatcher's turn) inside one such greenlet instead, handing
whatever it awaits to the event loop's task as if it had been awaited directly; a
`TurnSession` called inside it calls the synchronous Session at once.

Outside `in_one_greenlet` (scheduler, CLI, tests calling storage directly) a TurnSession is
an AsyncSession as before. Inside it, one thing is allowed that an AsyncSession forbids: an
attribute that was not loaded loads itself (on the event loop's terms, like every other
statement) instead of raising MissingGreenlet – code shared with the scheduler should still
load what it needs with the statement.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator, Iterable, Sequence
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio.session import AsyncSessionTransaction
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_, greenlet_spawn, in_greenlet

T = TypeVar("T")
BUFFERED = {"prebuffer_rows": True}  # as AsyncSession: a result's rows are read at once


def _buffered(execution_options: Any) -> Any:
    """The execution options with the rows buffered, as AsyncSession passes them."""
    return {**execution_options, **BUFFERED} if execution_options else BUFFERED


class _Handed:
    """What the driven coroutine awaited (a future, or None for a bare yield), handed on."""

    __slots__ = ("item",)

    def __init__(self, item: Any) -> None:
        self.item = item

    def __await__(self) -> Generator[Any, None, None]:
        yield self.item


def _drive(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run the coroutine in this greenlet; each step it awaits is awaited by the task."""
    sent: Any = None
    error: BaseException | None = None
    while True:
        try:
            awaited = coroutine.throw(error) if error is not None else coroutine.send(sent)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        sent = error = None
        try:
            sent = await_(_Handed(awaited))
        except BaseException as raised:  # cancellation and the like: into the coroutine
            error = raised


async def in_one_greenlet(coroutine: Coroutine[Any, Any, T]) -> T:
    """Await the coroutine inside one greenlet, so TurnSession calls need none of their own."""
    return await greenlet_spawn(_drive, coroutine)


class TurnSession(AsyncSession):
    """An AsyncSession that calls the synchronous Session directly when already in a greenlet."""

    async def execute(self, statement: Any, params: Any = None, *,
                      execution_options: Any = EMPTY_DICT, bind_arguments: Any = None,
                      **kw: Any) -> Result[Any]:
        """As AsyncSession.execute (rows buffered)."""
        if not in_greenlet():
            return await super().execute(statement, params, execution_options=execution_options,
                                         bind_arguments=bind_arguments, **kw)
        return self.sync_session.execute(statement, params,
                                         execution_options=_buffered(execution_options),
                                         bind_arguments=bind_arguments, **kw)

    async def scalar(self, statement: Any, params: Any = None, *,
                     execution_options: Any = EMPTY_DICT, bind_arguments: Any = None,
                     **kw: Any) -> Any:
        """As AsyncSession.scalar."""
        if not in_greenlet():
            return await super().scalar(statement, params, execution_options=execution_options,
                                        bind_arguments=bind_arguments, **kw)
        return self.sync_session.scalar(statement, params,
                                        execution_options=_buffered(execution_options),
                                        bind_arguments=bind_arguments, **kw)

    async def get(self, entity: Any, ident: Any, **kw: Any) -> Any:
        """As AsyncSession.get."""
        if not in_greenlet():
            return await super().get(entity, ident, **kw)
        return self.sync_session.get(entity, ident, **kw)

    async def flush(self, objects: Sequence[Any] | None = None) -> None:
        """As AsyncSession.flush."""
        if not in_greenlet():
            return await super().flush(objects)
        self.sync_session.flush(objects)

    async def delete(self, instance: object) -> None:
        """As AsyncSession.delete."""
        if not in_greenlet():
            return await super().delete(instance)
        self.sync_session.delete(instance)

    async def refresh(self, instance: object, attribute_names: Iterable[str] | None = None,
                      with_for_update: Any = None) -> None:
        """As AsyncSession.refresh."""
        if not in_greenlet():
            return await super().refresh(instance, attribute_names, with_for_update)
        self.sync_session.refresh(instance, attribute_names, with_for_update)

    async def close(self) -> None:
        """As AsyncSession.close."""
        if not in_greenlet():
            return await super().close()
        self.sync_session.close()

    def begin(self) -> AsyncSessionTransaction:
        """As AsyncSession.begin; inside a greenlet, begin and commit make no greenlet."""
        return _TurnTransaction(self)

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        """As AsyncSession's: close. Inside a greenlet directly, not in a shielded task.

        AsyncSession closes in a task of its own so that a cancellation cannot leave the close
        running in the background; inside a greenlet the close is synchronous and cannot go on
        in the background either: a cancellation during the pool's reset (PostgreSQL's
        rollback) invalidates that connection instead of returning it.
        """
        if not in_greenlet():
            return await super().__aexit__(type_, value, traceback)
        self.sync_session.close()


class _TurnTransaction(AsyncSessionTransaction):
    """AsyncSession's transaction context, calling the Session directly inside a greenlet."""

    __slots__ = ()

    async def start(self, is_ctxmanager: bool = False) -> _TurnTransaction:
        """As AsyncSessionTransaction.start."""
        if not in_greenlet():
            await super().start(is_ctxmanager)
            return self
        self.sync_transaction = self._assign_proxied(self.session.sync_session.begin())
        if is_ctxmanager:
            self.sync_transaction.__enter__()
        return self

    async def commit(self) -> None:
        """As AsyncSessionTransaction.commit."""
        if not in_greenlet():
            return await super().commit()
        self._sync_transaction().commit()

    async def rollback(self) -> None:
        """As AsyncSessionTransaction.rollback."""
        if not in_greenlet():
            return await super().rollback()
        self._sync_transaction().rollback()

    async def __aexit__(self, type_: type[BaseException] | None, value: BaseException | None,
                        traceback: TracebackType | None) -> None:
        if not in_greenlet():
            return await super().__aexit__(type_, value, traceback)
        self._sync_transaction().__exit__(type_, value, traceback)
