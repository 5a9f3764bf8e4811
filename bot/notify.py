"""The notification API for services: messages and reminders that go out through the outbox.

Everything a service sends that is not the direct answer to a message goes through here,
inside the transaction of the change that causes it:

- ``await notify(db, user_id, compose, dedup_key=...)`` – one message to one user, composed
  in the user's language (``compose(t)`` returns the replies), sent as soon as possible on
  the platform the user used last. A dedup key makes a repeated call a no-op.
- ``await broadcast(db, user_ids, compose, dedup_prefix=...)`` – the same to many users, at
  broadcast priority (direct answers to people chatting now always go first).
- ``await remind(db, user_id, due_at, message_key, params, valid_until=..., ref=...)`` – a
  reminder row; when due, it becomes an outbox row; one past ``valid_until`` is dropped.
- ``await cancel_reminders(db, ref)`` – e.g. when a registration is given back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translate, translator
from bot.messages import Reply
from storage import outbox, reminders
from storage.users import User

Compose = Callable[[Translate], list[Reply]]


async def notify(
    db: AsyncSession,
    user_id: int,
    compose: Compose,
    *,
    dedup_key: str | None = None,
    priority: int = outbox.NOTIFICATION,
    not_before: datetime | None = None,
) -> bool:
    """Queue a message for one user in their language; False if unreachable or a duplicate."""
    user = await db.get(User, user_id)
    identity = await outbox.preferred_identity(db, user_id) if user else None
    if user is None or identity is None:
        return False
    message = await outbox.enqueue(
        db,
        platform=identity.platform,
        recipient=identity.external_id,
        replies=compose(translator(user.language)),
        user_id=user_id,
        priority=priority,
        dedup_key=dedup_key,
        not_before=not_before,
    )
    return message is not None


async def broadcast(
    db: AsyncSession, user_ids: Iterable[int], compose: Compose, *, dedup_prefix: str
) -> int:
    """Queue the same message for many users (each in their language); returns how many.

    Bulk work: one query for the recipients, one for existing keys, batched inserts; the
    text is composed once per language. Unreachable users and repeated keys are skipped.
    """
    ids = list(dict.fromkeys(user_ids))
    identities = await outbox.reachable_identities(db, ids)
    languages: dict[int, str] = {}
    for start in range(0, len(ids), outbox.CHUNK):
        chunk = ids[start : start + outbox.CHUNK]
        rows = await db.execute(select(User.id, User.language).where(User.id.in_(chunk)))
        languages.update({uid: language for uid, language in rows})
    keys = {uid: f"{dedup_prefix}:{uid}" for uid in identities}
    done = await outbox.existing_keys(db, list(keys.values()))
    payloads: dict[str, list[dict[str, Any]]] = {}
    new_rows = []
    for uid, identity in identities.items():
        if keys[uid] in done:
            continue
        language = languages.get(uid, "de")
        if language not in payloads:
            payloads[language] = outbox.serialise(compose(translator(language)))
        new_rows.append(
            {
                "platform": identity.platform,
                "recipient": identity.external_id,
                "user_id": uid,
                "payload": payloads[language],
                "priority": outbox.BROADCAST,
                "dedup_key": keys[uid],
            }
        )
    return await outbox.enqueue_many(db, new_rows)


async def remind(
    db: AsyncSession,
    user_id: int,
    due_at: datetime,
    message_key: str,
    params: dict[str, Any] | None = None,
    *,
    valid_until: datetime | None = None,
    ref: str | None = None,
    kind: str = "reminder",
) -> reminders.Reminder:
    """Store a reminder: message_key with params, sent at due_at unless past valid_until."""
    return await reminders.add(
        db,
        user_id,
        due_at,
        kind=kind,
        message_key=message_key,
        params=params,
        valid_until=valid_until,
        ref=ref,
    )


async def cancel_reminders(db: AsyncSession, ref: str, user_id: int | None = None) -> int:
    """Cancel pending reminders about ref."""
    return await reminders.cancel(db, ref, user_id)
