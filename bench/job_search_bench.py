"""Job search benchmark: one page of results (storage/jobs.py: search) by kind of query.

On the demo database, and with 300 more matching postings of one employer: a search by field
(the database cuts the page and counts) and a search with free words (candidates ranked in
Python). Prints the best of three runs of 100 searches each, per search, on SQLite and (when
the binaries are installed) PostgreSQL. It asserts nothing (speed is measured, not asserted).

Run: python bench/job_search_bench.py [--searches 100] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import App, create_app
from bot.config import config_from_mapping
from storage import jobs
from storage.jobs import JobQuery

EXTRA_POSTINGS = 300
CASES = {
    "by field, demo data (15 matches)": JobQuery(field="nursing"),
    f"by field, {EXTRA_POSTINGS} matches": JobQuery(field="logistics", employment_type="mini_job"),
    "free word and field, demo data": JobQuery(field="nursing", words=("intensiv",)),
    f"free word only, {EXTRA_POSTINGS} matches": JobQuery(words=("gabelstapler",)),
}


async def add_postings(app: App, count: int) -> None:
    """count open mini jobs in logistics that mention a forklift, of one employer."""
    async with app.sessions() as db, db.begin():
        employer = await jobs.get_or_create_employer(db, "Bench Logistik GmbH")
        for n in range(count):
            await jobs.post_job(db, employer, title=f"Lagerhelfer (m/w/d) {n}", field="logistics",
                                employment_type="mini_job", district="Hörde",
                                description="Lager und Versand, mit Gabelstapler.",
                                contact="jobs@bench.example")


async def time_search(app: App, query: JobQuery, searches: int) -> float:
    """Milliseconds per search, best of three runs (after a warm-up)."""
    runs = []
    for _ in range(3):
        async with app.sessions() as db, db.begin():
            for _ in range(10):
                await jobs.search(db, query)
            started = time.perf_counter()
            for _ in range(searches):
                await jobs.search(db, query)
            runs.append((time.perf_counter() - started) / searches * 1000)
    return min(runs)


async def run(name: str, url: str, folder: Path, searches: int) -> None:
    """Every case on one database (demo data loaded by create_app)."""
    config = config_from_mapping({"storage": {"url": url}, "nlu": {"cache_dir": None}}, folder)
    app = await create_app(config)
    try:
        await add_postings(app, EXTRA_POSTINGS)
        for case, query in CASES.items():
            print(f"{name:<11} {case:<38} {await time_search(app, query, searches):6.2f} ms")
    finally:
        await app.close()


async def main() -> None:
    """Run the cases on SQLite and, when possible, on a throwaway PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=100)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="citybot-search-"))
    await run("SQLite", f"sqlite+aiosqlite:///{folder / 'bench.db'}", folder, args.searches)
    if args.no_postgres:
        return
    from tests.pgcluster import binaries_present, throwaway_postgres

    if binaries_present():
        with throwaway_postgres() as info:
            await run("PostgreSQL", info.create_database("search").url(), folder, args.searches)


if __name__ == "__main__":
    asyncio.run(main())
