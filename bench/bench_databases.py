"""The databases a benchmark runs on: SQLite, and PostgreSQL in a throwaway cluster."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

Database = tuple[str, Callable[[str], str]]  # a name, and a fresh database's URL by its name


@contextlib.contextmanager
def bench_databases(folder: Path, *, postgres: bool) -> Iterator[list[Database]]:
    """SQLite files in folder, then – when asked for and its binaries are installed – a
    throwaway PostgreSQL cluster, stopped on leaving."""
    databases: list[Database] = [
        ("SQLite", lambda name: f"sqlite+aiosqlite:///{folder / name}.db")]
    if not postgres:
        yield databases
        return
    from tests.pgcluster import binaries_present, throwaway_postgres

    if not binaries_present():
        print("PostgreSQL: binaries not installed, skipped")
        yield databases
        return
    with throwaway_postgres() as cluster:
        yield [*databases, ("PostgreSQL", lambda name: cluster.create_database(name).url())]
