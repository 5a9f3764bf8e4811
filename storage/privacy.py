"""Personal-data export: every storage module registers what it holds about a user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

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
