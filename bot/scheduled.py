"""The platform's own recurring jobs: release due reminders, forget old event ids, retention."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import RetentionConfig
from bot.i18n import Translate, format_time
from bot.messages import Reply
from bot.notify import notify
from bot.scheduler import recurring, runtime
from storage import outbox, reminders
from storage.base import utcnow
from storage.conversations import forget_processed_before, forget_states_before
from storage.users import User

logger = logging.getLogger(__name__)
BATCH = 500


def render_params(params: dict[str, Any], language: str, tz: Any) -> dict[str, Any]:
    """Reminder parameters for display: values of keys ending in _at are UTC ISO times."""
    shown = dict(params)
    for key, value in params.items():
        if key.endswith("_at") and isinstance(value, str):
            shown[key] = format_time(datetime.fromisoformat(value), language, tz)
    return shown


@recurring(
    "release_reminders", lambda c: IntervalTrigger(seconds=c.scheduler.reminder_interval_seconds)
)
async def release_reminders() -> tuple[int, int]:
    """Turn due reminders into outbox rows; drop those that became useless. Returns counts."""
    app = runtime()
    queued = dropped = 0
    while True:
        now = utcnow()
        async with app.sessions() as db, db.begin():
            due = await reminders.claim_due(db, now, BATCH)
            for reminder in due:
                if reminder.valid_until is not None and reminder.valid_until <= now:
                    reminder.status = reminders.DROPPED
                    dropped += 1
                    continue
                user = await db.get(User, reminder.user_id)
                params = render_params(
                    reminder.params, user.language if user else "de", app.config.city.tz
                )

                def compose(
                    t: Translate, key: str = reminder.message_key, values: dict[str, Any] = params
                ) -> list[Reply]:
                    return [Reply(t(key, **values))]

                sent = await notify(
                    db, reminder.user_id, compose, dedup_key=f"reminder:{reminder.id}"
                )
                reminder.status = reminders.QUEUED if sent else reminders.DROPPED
                queued += sent
                dropped += not sent
        if len(due) < BATCH:
            break
    if queued or dropped:
        logger.info("reminders released queued=%d dropped=%d", queued, dropped)
    return queued, dropped


@recurring("forget_old_events", lambda c: CronTrigger(hour=3, minute=17, timezone=c.city.tz))
async def forget_old_events() -> int:
    """Delete processed-event ids older than the configured number of days."""
    app = runtime()
    async with app.sessions() as db, db.begin():
        removed = await forget_processed_before(
            db, timedelta(days=app.config.scheduler.keep_event_ids_days)
        )
    logger.info("processed event ids removed=%d", removed)
    return removed


@dataclass(frozen=True)
class Purged:
    """What one retention run deleted."""

    outbox_rows: int
    states: int


async def purge_expired(
    sessions: async_sessionmaker[AsyncSession], retention: RetentionConfig, now: datetime
) -> Purged:
    """Delete what the retention settings no longer allow: old outbox rows and states."""
    async with sessions() as db, db.begin():
        rows = await outbox.purge(db, keep=timedelta(days=retention.outbox_days), now=now)
        states = await forget_states_before(db, timedelta(days=retention.state_days), now=now)
    return Purged(rows, states)


@recurring("retention_purge", lambda c: CronTrigger(hour=3, minute=37, timezone=c.city.tz))
async def retention_purge() -> Purged:
    """Daily: sent/failed outbox rows after retention.outbox_days, states after state_days."""
    app = runtime()
    purged = await purge_expired(app.sessions, app.config.retention, utcnow())
    logger.info("retention purge outbox_rows=%d states=%d", purged.outbox_rows, purged.states)
    return purged
