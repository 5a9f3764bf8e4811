"""Shop followers and updates on SQLite and PostgreSQL: following, drafts, delivery counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.messages import Reply
from bot.notify import broadcast
from storage import migrate, outbox, shop_updates, users
from storage.base import utcnow
from storage.db import create_engine, session_factory
from storage.demo import load_demo
from storage.shop_updates import DRAFT, ShopUpdate
from storage.shops import shop_by_key


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    async with session_factory(engine)() as db, db.begin():
        await load_demo(db)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as session:
        yield session


async def test_follow_is_once_per_user_and_shop(db):
    shop = await shop_by_key(db, "cafe-rosa")
    user, _ = await users.get_or_create_user(db, "console", "anna", language="de")
    assert await shop_updates.follow(db, shop.id, user.id)
    assert not await shop_updates.follow(db, shop.id, user.id)
    assert [s.name for s in await shop_updates.followed_shops(db, user.id)] == ["Café Rosa"]
    assert await shop_updates.follower_count(db, shop.id) == 1
    assert await shop_updates.unfollow(db, shop.id, user.id)
    assert not await shop_updates.unfollow(db, shop.id, user.id)
    await db.commit()


async def test_delivery_counts_come_from_the_updates_outbox_rows(db):
    shop = await shop_by_key(db, "cafe-rosa")
    ids = []
    for name in ("a", "b", "c"):
        user, _ = await users.get_or_create_user(db, "console", name, language="de")
        await shop_updates.follow(db, shop.id, user.id)
        ids.append(user.id)
    first = await shop_updates.save_draft(db, shop.id, ids[0])
    queued = await broadcast(db, ids, lambda t: [Reply("x")], dedup_prefix=first.dedup_prefix)
    await shop_updates.mark_sent(db, first, "Erstes", queued)
    second = await shop_updates.save_draft(db, shop.id, ids[0])
    await broadcast(db, ids[:1], lambda t: [Reply("y")], dedup_prefix=second.dedup_prefix)
    await shop_updates.mark_sent(db, second, "Zweites", 1)
    rows = list(
        await db.scalars(
            select(outbox.OutboxMessage).where(
                outbox.OutboxMessage.dedup_key.like(f"{first.dedup_prefix}:%")
            )
        )
    )
    await db.execute(
        update(outbox.OutboxMessage)
        .where(outbox.OutboxMessage.id == rows[0].id)
        .values(status=outbox.SENT)
    )
    await db.execute(
        update(outbox.OutboxMessage)
        .where(outbox.OutboxMessage.id == rows[1].id)
        .values(status=outbox.FAILED)
    )
    assert await shop_updates.delivery_counts(db, first) == {"sent": 1, "failed": 1, "pending": 1}
    assert await shop_updates.delivery_counts(db, second) == {"sent": 0, "failed": 0, "pending": 1}
    since = utcnow() - timedelta(hours=1)
    assert await shop_updates.sent_since(db, shop.id, since) == 2, "demo updates do not count"
    latest = await shop_updates.latest_update(db, shop.id)
    assert latest is not None and latest.text == "Zweites"
    await db.commit()


async def test_old_drafts_are_dropped_when_a_new_one_is_made(db):
    shop = await shop_by_key(db, "cafe-rosa")
    anna, _ = await users.get_or_create_user(db, "console", "anna", language="de")
    ben, _ = await users.get_or_create_user(db, "console", "ben", language="de")
    forgotten = await shop_updates.save_draft(db, shop.id, ben.id, photo=b"x", photo_mime="a/b")
    forgotten.created_at = utcnow() - timedelta(days=2)
    mine = await shop_updates.save_draft(db, shop.id, anna.id)
    again = await shop_updates.save_draft(db, shop.id, anna.id)
    drafts = list(await db.scalars(select(ShopUpdate.id).where(ShopUpdate.status == DRAFT)))
    assert drafts == [again.id] and mine is not again
    await db.commit()


async def test_erasing_a_user_removes_following_and_keeps_the_shops_updates(db):
    shop = await shop_by_key(db, "cafe-rosa")
    user, _ = await users.get_or_create_user(db, "console", "anna", language="de")
    await shop_updates.follow(db, shop.id, user.id)
    draft = await shop_updates.save_draft(db, shop.id, user.id)
    await shop_updates.mark_sent(db, draft, "Hallo", 0)
    await db.commit()
    await users.delete_user(db, user)
    await db.commit()
    assert await shop_updates.follower_count(db, shop.id) == 0
    kept = await shop_updates.get_update(db, draft.id)
    await db.refresh(kept)
    assert kept is not None and kept.author_id is None
