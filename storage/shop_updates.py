"""Shop followers and shop updates: who follows which shop, what a shop posted, delivery counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage import outbox
from storage.base import Base, UTCDateTime, utcnow
from storage.demo import seeder
from storage.privacy import exporter
from storage.shops import Shop, shop_by_key

DRAFT, SENT = "draft", "sent"
MAX_UPDATE_TEXT = 1000
MAX_PHOTO_BYTES = 5 * 1024 * 1024
DEDUP_PREFIX = "shopupd"
DRAFT_LIFETIME = timedelta(days=1)


class ShopFollower(Base):
    """A user who asked to receive a shop's updates (explicit opt-in)."""

    __tablename__ = "shop_followers"
    __table_args__ = (UniqueConstraint("shop_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ShopUpdate(Base):
    """A message a shop sent (or is about to send) to its followers; text and maybe a photo."""

    __tablename__ = "shop_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default=DRAFT)
    text: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
    photo_mime: Mapped[str | None] = mapped_column(String(50))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    @property
    def dedup_prefix(self) -> str:
        """The outbox dedup prefix of this update's messages ('shopupd:<id>')."""
        return f"{DEDUP_PREFIX}:{self.id}"


# --- following ---------------------------------------------------------------------------


async def is_following(db: AsyncSession, shop_id: int, user_id: int) -> bool:
    """Whether the user follows the shop."""
    found = await db.scalar(
        select(ShopFollower.id).where(
            ShopFollower.shop_id == shop_id, ShopFollower.user_id == user_id
        )
    )
    return found is not None


async def follow(db: AsyncSession, shop_id: int, user_id: int) -> bool:
    """Follow a shop; False if the user already did."""
    if await is_following(db, shop_id, user_id):
        return False
    db.add(ShopFollower(shop_id=shop_id, user_id=user_id))
    await db.flush()
    return True


async def unfollow(db: AsyncSession, shop_id: int, user_id: int) -> bool:
    """Stop following a shop; False if the user did not follow it."""
    result = await db.execute(
        delete(ShopFollower).where(ShopFollower.shop_id == shop_id, ShopFollower.user_id == user_id)
    )
    return bool(result.rowcount)


async def followed_shops(db: AsyncSession, user_id: int) -> list[Shop]:
    """The shops a user follows, by name."""
    rows = await db.scalars(
        select(Shop)
        .join(ShopFollower, ShopFollower.shop_id == Shop.id)
        .where(ShopFollower.user_id == user_id)
        .order_by(Shop.name)
    )
    return list(rows)


async def follower_ids(db: AsyncSession, shop_id: int) -> list[int]:
    """The user ids of a shop's followers."""
    rows = await db.scalars(
        select(ShopFollower.user_id)
        .where(ShopFollower.shop_id == shop_id)
        .order_by(ShopFollower.id)
    )
    return list(rows)


async def follower_count(db: AsyncSession, shop_id: int) -> int:
    """How many users follow the shop."""
    count = await db.scalar(
        select(func.count()).select_from(ShopFollower).where(ShopFollower.shop_id == shop_id)
    )
    return int(count or 0)


@exporter("shop_updates_written")
async def export_written_updates(db: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """The updates the user wrote for a shop, the shop named (the shop's when the user goes)."""
    rows = await db.execute(
        select(ShopUpdate, Shop.name)
        .join(Shop, Shop.id == ShopUpdate.shop_id)
        .where(ShopUpdate.author_id == user_id)
        .order_by(ShopUpdate.id)
    )
    return [
        {
            "id": u.id,
            "shop_id": u.shop_id,
            "shop": shop_name,
            "status": u.status,
            "text": u.text,
            "with_photo": u.photo is not None,
            "recipients": u.recipients,
            "created_at": u.created_at.isoformat(),
        }
        for u, shop_name in rows
    ]


@exporter("shop_following")
async def export_following(db: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """The shops a user follows, since when."""
    rows = await db.execute(
        select(Shop.name, ShopFollower.created_at)
        .join(ShopFollower, ShopFollower.shop_id == Shop.id)
        .where(ShopFollower.user_id == user_id)
        .order_by(Shop.name)
    )
    return [{"shop": name, "since": since.isoformat()} for name, since in rows]


# --- updates -----------------------------------------------------------------------------


async def save_draft(
    db: AsyncSession,
    shop_id: int,
    author_id: int,
    *,
    photo: bytes | None = None,
    photo_mime: str | None = None,
) -> ShopUpdate:
    """A new draft of the author for the shop.

    Their older drafts of that shop are dropped, and every draft older than a day (a
    cancelled or forgotten update, maybe with a photo) with them.
    """
    await db.execute(
        delete(ShopUpdate).where(
            ShopUpdate.status == DRAFT,
            or_(
                and_(ShopUpdate.shop_id == shop_id, ShopUpdate.author_id == author_id),
                ShopUpdate.created_at < utcnow() - DRAFT_LIFETIME,
            ),
        )
    )
    draft = ShopUpdate(
        shop_id=shop_id, author_id=author_id, status=DRAFT, photo=photo, photo_mime=photo_mime
    )
    db.add(draft)
    await db.flush()
    return draft


async def get_update(db: AsyncSession, update_id: int) -> ShopUpdate | None:
    """An update (or draft) by id."""
    return await db.get(ShopUpdate, update_id)


async def mark_sent(db: AsyncSession, update: ShopUpdate, text: str, recipients: int) -> None:
    """Turn a draft into a sent update."""
    update.text = text
    update.status = SENT
    update.recipients = recipients
    update.sent_at = utcnow()
    await db.flush()


async def sent_since(db: AsyncSession, shop_id: int, since: datetime) -> int:
    """How many updates the shop sent since a moment (for the daily limit)."""
    count = await db.scalar(
        select(func.count())
        .select_from(ShopUpdate)
        .where(
            ShopUpdate.shop_id == shop_id,
            ShopUpdate.status == SENT,
            ShopUpdate.sent_at >= since,
            ShopUpdate.demo.is_(False),
        )
    )
    return int(count or 0)


async def latest_update(db: AsyncSession, shop_id: int) -> ShopUpdate | None:
    """The shop's newest sent update."""
    return await db.scalar(
        select(ShopUpdate)
        .where(ShopUpdate.shop_id == shop_id, ShopUpdate.status == SENT)
        .order_by(ShopUpdate.sent_at.desc(), ShopUpdate.id.desc())
        .limit(1)
    )


async def recent_updates(db: AsyncSession, shop_id: int, limit: int = 3) -> list[ShopUpdate]:
    """The shop's newest sent updates, newest first."""
    rows = await db.scalars(
        select(ShopUpdate)
        .where(ShopUpdate.shop_id == shop_id, ShopUpdate.status == SENT)
        .order_by(ShopUpdate.sent_at.desc(), ShopUpdate.id.desc())
        .limit(limit)
    )
    return list(rows)


async def delivery_counts(db: AsyncSession, update: ShopUpdate) -> dict[str, int]:
    """sent / failed / pending of an update's outbox rows (found by their dedup prefix)."""
    rows = await db.execute(
        select(outbox.OutboxMessage.status, func.count())
        .where(outbox.OutboxMessage.dedup_key.like(f"{update.dedup_prefix}:%"))
        .group_by(outbox.OutboxMessage.status)
    )
    counts = {"sent": 0, "failed": 0, "pending": 0}
    for status, count in rows:
        key = status if status in (outbox.SENT, outbox.FAILED) else "pending"
        counts[key] += int(count)
    return counts


# --- demo data ---------------------------------------------------------------------------


@seeder("shop_updates", order=25)
async def seed_shop_updates(
    db: AsyncSession, read: Callable[[str], dict[str, Any]]
) -> dict[str, int]:
    """Coordinates of the demo shops and a few updates each (no followers); idempotent."""
    created = 0
    for row in read("shops").get("shops", []):
        shop = await shop_by_key(db, row["key"])
        if shop is None:
            continue
        if shop.latitude is None and row.get("latitude") is not None:
            shop.latitude, shop.longitude = float(row["latitude"]), float(row["longitude"])
        has_any = await db.scalar(
            select(ShopUpdate.id).where(ShopUpdate.shop_id == shop.id).limit(1)
        )
        if has_any is not None:
            continue
        now = utcnow()
        for item in row.get("updates", []):
            when = now - timedelta(days=int(item["days_ago"]))
            db.add(
                ShopUpdate(
                    shop_id=shop.id,
                    status=SENT,
                    text=item["text"],
                    demo=True,
                    created_at=when,
                    sent_at=when,
                )
            )
            created += 1
    await db.flush()
    return {"shop_updates": created}
