"""Local shops: the shop card (hours, delivery, notice, voucher offer) and finding shops."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import JSON, Boolean, Float, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow
from storage.demo import catalogue, seeder

SHOP_CATEGORIES = (
    "bakery",
    "cafe",
    "restaurant",
    "bookshop",
    "florist",
    "fashion",
    "bike",
    "grocery",
    "pharmacy",
    "other",
)
WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
DEFAULT_VOUCHER_AMOUNTS = [1000, 2500, 5000]
DEFAULT_MIN_CENTS = 500
DEFAULT_MAX_CENTS = 25000
FUZZY_CUTOFF = 80


class Shop(Base):
    """A local shop with its card; `key` is the stable id used in invites and deep links."""

    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    category: Mapped[str] = mapped_column(String(20), index=True)
    district: Mapped[str | None] = mapped_column(String(100), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    address: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    opening_hours: Mapped[dict[str, str | None]] = mapped_column(JSON, default=dict)
    delivers: Mapped[bool] = mapped_column(Boolean, default=False)
    pickup: Mapped[bool] = mapped_column(Boolean, default=False)
    notice: Mapped[str | None] = mapped_column(String(300))
    sells_vouchers: Mapped[bool] = mapped_column(Boolean, default=False)
    voucher_amounts: Mapped[list[int]] = mapped_column(JSON, default=list)
    voucher_min_cents: Mapped[int] = mapped_column(Integer, default=DEFAULT_MIN_CENTS)
    voucher_max_cents: Mapped[int] = mapped_column(Integer, default=DEFAULT_MAX_CENTS)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    latitude: Mapped[float | None] = mapped_column(Float)  # for directions (migration 0008)
    longitude: Mapped[float | None] = mapped_column(Float)


def name_order(name: str) -> str:
    """A name's place in a list: case and accents ignored, "Bäckerei" next to "Backstube"
    (DIN 5007-1), not after every "z" as in the database's byte order."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


async def all_shops(db: AsyncSession) -> list[Shop]:
    """Every shop, by name (name_order)."""
    return sorted(await db.scalars(select(Shop)), key=lambda shop: name_order(shop.name))


async def get_shop(db: AsyncSession, shop_id: int) -> Shop | None:
    """A shop by id."""
    return await db.get(Shop, shop_id)


async def shop_by_key(db: AsyncSession, key: str) -> Shop | None:
    """A shop by its key (e.g. 'cafe-rosa')."""
    return await db.scalar(select(Shop).where(Shop.key == key.strip().lower()))


async def shop_by_name(db: AsyncSession, name: str) -> Shop | None:
    """A shop by its exact name (the `shop` entity's canonical value)."""
    return await db.scalar(select(Shop).where(Shop.name == name))


async def _shops_of(db: AsyncSession, category: str | None, district: str | None) -> list[Shop]:
    return [
        s
        for s in await all_shops(db)
        if (category is None or s.category == category)
        and (district is None or (s.district or "").lower() == district.lower())
    ]


async def scored_shops(
    db: AsyncSession,
    text: str,
    *,
    category: str | None = None,
    district: str | None = None,
) -> list[tuple[float, Shop]]:
    """(score, shop) of the shops whose name or an alias matches text fuzzily, best first."""
    wanted = " ".join(text.lower().split())
    scored: list[tuple[float, Shop]] = []
    for shop in await _shops_of(db, category, district):
        forms = [shop.name, shop.key.replace("-", " "), *shop.aliases]
        best = process.extractOne(wanted, [f.lower() for f in forms], scorer=fuzz.WRatio)
        if best is not None and best[1] >= FUZZY_CUTOFF:
            scored.append((best[1], shop))
    scored.sort(key=lambda pair: (-pair[0], pair[1].name))
    return scored


async def find_shops(
    db: AsyncSession,
    text: str = "",
    *,
    category: str | None = None,
    district: str | None = None,
    limit: int = 10,
) -> list[Shop]:
    """Shops whose name or an alias matches text (fuzzy, best first), of a category/district."""
    if not text.split():
        return (await _shops_of(db, category, district))[:limit]
    scored = await scored_shops(db, text, category=category, district=district)
    return [shop for _score, shop in scored[:limit]]


def _plain(form: str) -> str:
    """A name to compare: case, accents, dashes and spacing ignored."""
    return name_order(" ".join(form.replace("-", " ").split()))


async def shops_named(db: AsyncSession, text: str) -> list[Shop]:
    """The shops text names exactly: their name, key or an alias (case and accents ignored)."""
    wanted = _plain(text)
    if not wanted:
        return []
    return [
        shop
        for shop in await all_shops(db)
        if wanted in {_plain(form) for form in (shop.name, shop.key, *shop.aliases)}
    ]


async def closest_names(db: AsyncSession, text: str, limit: int = 3) -> list[str]:
    """The names of the shops closest to text, for "did you mean" (no cutoff)."""
    names = [s.name for s in await all_shops(db)]
    found = process.extract(text.lower(), names, scorer=fuzz.WRatio, limit=limit)
    return [name for name, _score, _index in found]


@catalogue("shop")
async def shop_catalogue(db: AsyncSession) -> dict[str, list[str]]:
    """Shop name -> its surface forms (name and aliases), for the NLU catalogue."""
    return {s.name: [s.name, *s.aliases] for s in await all_shops(db)}


async def upsert_shop(db: AsyncSession, row: dict[str, Any]) -> Shop:
    """Create a shop from a demo-data row, or leave an existing one as its owner edited it."""
    shop = await shop_by_key(db, row["key"])
    if shop is not None:
        return shop
    shop = Shop(
        key=row["key"],
        name=row["name"],
        category=row["category"],
        district=row.get("district"),
        aliases=list(row.get("aliases", [])),
        address=row.get("address", ""),
        description=row.get("description", ""),
        opening_hours=dict(row.get("opening_hours", {})),
        delivers=bool(row.get("delivers", False)),
        pickup=bool(row.get("pickup", False)),
        sells_vouchers=bool(row.get("sells_vouchers", False)),
        voucher_amounts=list(row.get("voucher_amounts", DEFAULT_VOUCHER_AMOUNTS)),
        voucher_min_cents=int(row.get("voucher_min_cents", DEFAULT_MIN_CENTS)),
        voucher_max_cents=int(row.get("voucher_max_cents", DEFAULT_MAX_CENTS)),
    )
    db.add(shop)
    await db.flush()
    return shop


@seeder("shops", order=20)
async def seed_shops(db: AsyncSession, read: Callable[[str], dict[str, Any]]) -> dict[str, int]:
    """The demo city's shops."""
    rows = read("shops").get("shops", [])
    for row in rows:
        await upsert_shop(db, row)
    return {"shops": len(rows)}


async def lock_shop(db: AsyncSession, shop_id: int) -> Shop | None:
    """The shop, row-locked until the transaction ends (PostgreSQL; SQLite locks on write)."""
    return await db.scalar(select(Shop).where(Shop.id == shop_id).with_for_update())
