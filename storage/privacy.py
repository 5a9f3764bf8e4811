"""Personal-data export: every storage module registers what it holds about a user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

Exporter = Callable[[AsyncSession, int], Awaitable[list[dict[str, Any]]]]
EXPORTERS: dict[str, Exporter] = {}
Eraser = Callable[[AsyncSession, int], Awaitable[None]]
ERASERS: dict[str, Eraser] = {}


def exporter(section: str) -> Callable[[Exporter], Exporter]:
    """Register a function returning a user's records of one kind (JSON-able dicts)."""

    def register(func: Exporter) -> Exporter:
        EXPORTERS[section] = func
        return func

    return register


async def export_user(db: AsyncSession, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Everything citybot stores about a user, section by section."""
    return {section: await func(db, user_id) for section, func in sorted(EXPORTERS.items())}


async def rows_linked_to(
    db: AsyncSession, column: InstrumentedAttribute[Any], user_id: int,
    order: InstrumentedAttribute[Any] | None = None,
) -> list[Any]:
    """The rows of column's table whose column names the user, in order (by id if not given)."""
    entity = column.class_
    ordered = order if order is not None else entity.id
    return list(await db.scalars(select(entity).where(column == user_id).order_by(ordered)))


def eraser(section: str) -> Callable[[Eraser], Eraser]:
    """Register work to do before a user's rows go (e.g. give a held place back)."""

    def register(func: Eraser) -> Eraser:
        ERASERS[section] = func
        return func

    return register


async def before_erase(db: AsyncSession, user_id: int) -> None:
    """Run every registered eraser for the user (before the cascading delete)."""
    for _section, func in sorted(ERASERS.items()):
        await func(db, user_id)
