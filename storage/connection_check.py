"""Lost PostgreSQL connections: a ping for pooled ones that sat idle, not on every checkout.

SQLAlchemy's `pool_pre_ping` checks a connection each time it leaves the pool. With asyncpg
that ping is three round trips (BEGIN, an empty query, ROLLBACK), about 1 ms a turn on this
machine – for connections that were used a moment ago. Here a connection is pinged only when
it sat in the pool for PING_AFTER_IDLE_SECONDS or more (the case of a server restarted at
night or a connection dropped by a firewall); a broken one is replaced before use.

A connection lost while the bot is busy (the server restarted seconds ago) shows when its
first statement fails. SQLAlchemy then marks the error `connection_invalidated` and recycles
every connection the pool held before; `lost_connection` tells the dispatcher so, and it runs
the turn once more on a fresh connection (bot/dispatcher.py: a rolled-back turn has had no
effect, and the event's dedup row makes a turn that did commit a redelivery).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

PING_AFTER_IDLE_SECONDS = 10.0
IDLE_SINCE = "citybot_idle_since"  # the pool entry's info: when it was last checked in


def ping_idle_connections(engine: AsyncEngine) -> None:
    """Ping a pooled connection before use when it sat idle long enough (not otherwise)."""
    dialect = engine.sync_engine.dialect

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[IDLE_SINCE] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # new, or used a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("idle connection lost") from error  # the pool reconnects

    event.listen(engine.sync_engine.pool, "checkin", checked_in)
    event.listen(engine.sync_engine.pool, "checkout", checked_out)


def lost_connection(error: BaseException) -> bool:
    """Whether the error means the database connection was lost (and has been replaced)."""
    return isinstance(error, DBAPIError) and error.connection_invalidated
