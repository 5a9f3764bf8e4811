"""Local shops: the shop card (hours, delivery, notice, voucher offer) and finding shops."""

from __future__ import annotations

import re
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
NAMING_SIMILARITY = 70  # a text whose words come this close (0–100) to a shop's words names it
SHORTEST_WORD = 4  # shorter words ("am", "da", "das") name no shop on their own
SHORT_WORD = 5  # a word shorter than this names a shop's word only nearly as written:
SHORT_WORD_SIMILARITY = 85  # "rosza" is "rosa", but "from" is not "farm"


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


def _words(text: str) -> list[str]:
    """The words of a text that may name a shop (compared plain, see _plain); the whole text
    if it has none that long."""
    plain = _plain(text)
    words = [word for word in re.split(r"\W+", plain) if len(word) >= SHORTEST_WORD]
    return words or ([plain] if plain.strip() else [])


def naming_similarity(text: str, shop: Shop) -> float:
    """How close a text comes to naming the shop (0–100): its closest word to a word of the
    shop's name, key or aliases, or the whole text to a whole one of them ("caferosa").

    Unlike a fuzzy match of the whole text, a sentence that only shares a short word with a
    name ("what am I supposed to do" – "Buchhandlung am Markt") stays far from it."""
    forms = [_plain(form) for form in (shop.name, shop.key, *shop.aliases)]
    theirs = {word for form in forms for word in _words(form)}
    pairs = [(ours, word) for ours in _words(text) for word in theirs]
    pairs += [(_plain(text), form) for form in forms]
    return max((_word_similarity(ours, word) for ours, word in pairs), default=0.0)


def _word_similarity(ours: str, theirs: str) -> float:
    """fuzz.ratio of two words; 0 for a short word that is not nearly the other one."""
    score = fuzz.ratio(ours, theirs)
    short = min(len(ours), len(theirs)) < SHORT_WORD
    return 0.0 if short and score < SHORT_WORD_SIMILARITY else score


def names_shop(text: str, shop: Shop) -> bool:
    """Whether a text (a typed answer) may name the shop at all (naming_similarity)."""
    return naming_similarity(text, shop) >= NAMING_SIMILARITY


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
