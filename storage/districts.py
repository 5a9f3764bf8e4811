"""The city's districts: names and aliases, the catalogue behind the `location` entity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.demo import catalogue, seeder


class District(Base):
    """A district (Stadtbezirk) of the city."""

    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)


async def all_districts(db: AsyncSession) -> list[District]:
    """Every district, by name."""
    return list(await db.scalars(select(District).order_by(District.name)))


@catalogue("location")
async def district_catalogue(db: AsyncSession) -> dict[str, list[str]]:
    """District name -> its surface forms (name and aliases), for the NLU catalogue."""
    return {d.name: [d.name, *d.aliases] for d in await all_districts(db)}


async def upsert_district(db: AsyncSession, name: str, aliases: list[str]) -> District:
    """Create the district or update its aliases."""
    district = await db.scalar(select(District).where(District.name == name))
    if district is None:
        district = District(name=name, aliases=aliases)
        db.add(district)
    else:
        district.aliases = aliases
    await db.flush()
    return district


@seeder("districts", order=10)
async def seed_districts(db: AsyncSession, read: Callable[[str], dict[str, Any]]) -> dict[str, int]:
    """The demo city's districts."""
    rows = read("districts").get("districts", [])
    for row in rows:
        await upsert_district(db, row["name"], list(row.get("aliases", [])))
    return {"districts": len(rows)}
