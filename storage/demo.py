"""Demo data: each storage module registers a seeder for its part of storage/demo/*.yaml."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

DEMO_DIR = Path(__file__).parent / "demo_data"
Seeder = Callable[[AsyncSession, Callable[[str], dict[str, Any]]], Awaitable[dict[str, int]]]
SEEDERS: list[tuple[int, str, Seeder]] = []
CatalogueSource = Callable[[AsyncSession], Awaitable[dict[str, list[str]]]]
CATALOGUES: dict[str, CatalogueSource] = {}


def catalogue(entity: str) -> Callable[[CatalogueSource], CatalogueSource]:
    """Register the source of a database-backed NLU entity (value -> its surface forms)."""

    def register(func: CatalogueSource) -> CatalogueSource:
        CATALOGUES[entity] = func
        return func

    return register


def seeder(name: str, order: int = 50) -> Callable[[Seeder], Seeder]:
    """Register a function that loads (idempotently) one service's demo data."""

    def register(func: Seeder) -> Seeder:
        if all(existing != name for _, existing, _ in SEEDERS):
            SEEDERS.append((order, name, func))
            SEEDERS.sort(key=lambda entry: entry[0])
        return func

    return register


def read_demo_file(name: str) -> dict[str, Any]:
    """One YAML file of the demo data folder (empty mapping if absent)."""
    path = DEMO_DIR / f"{name}.yaml"
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


async def load_demo(db: AsyncSession) -> dict[str, int]:
    """Load all demo data; running it again changes nothing. Returns counts per kind."""
    importlib.import_module("storage.models")
    counts: dict[str, int] = {}
    for _order, _name, seed in SEEDERS:
        counts.update(await seed(db, read_demo_file))
    return counts


async def is_empty(db: AsyncSession) -> bool:
    """True for a database without districts (a fresh one)."""
    from storage.districts import District

    return (await db.scalar(select(func.count()).select_from(District))) == 0
