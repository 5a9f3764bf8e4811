"""PPE stock ledger on SQLite and PostgreSQL: concurrency, priority order, report, CLI."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from matplotlib.image import imread
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cli import main
from bot.config import config_from_mapping
from handlers import ppe_input
from handlers.ppe_report import build_report
from storage import migrate, ppe
from storage.base import utcnow
from storage.db import create_engine, session_factory
from storage.demo import load_demo


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


async def _setup(sessions, stock: int, wanted: list[int]) -> list[int]:
    """A department, `stock` gloves and one submitted request per wanted quantity."""
    async with sessions() as db, db.begin():
        department = await ppe.get_department(db, "feuerwehr", create=True)
        await ppe.record_movements(db, {"gloves": stock}, kind=ppe.SUPPLY, source="purchase")
        ids = []
        for qty in wanted:
            request = await ppe.create_request(
                db,
                department,
                None,
                [("gloves", qty)],
                urgency=ppe.NORMAL,
                needed_by=None,
                delivery_address="Feuerwache 1",
            )
            ids.append(request.id)
        return ids


async def _approve(
    sessions,
    request_id: int,
    qty: int,
    hold: asyncio.Event | None = None,
    holding: asyncio.Event | None = None,
) -> str:
    """One coordinator's approval in its own session; optionally holds its transaction open."""
    async with sessions() as db, db.begin():
        request = await ppe.get_request(db, request_id, lock=True)
        assert request is not None
        if request.status != ppe.SUBMITTED:
            return "stale"
        try:
            await ppe.approve(db, request, {"gloves": qty}, None)
        except ppe.StockError:
            return "short"
        if holding is not None and hold is not None:
            holding.set()
            await hold.wait()
        return "ok"


async def _wait_blocked(engine: AsyncEngine, task: asyncio.Task, timeout: float = 60) -> None:
    """Until the task waits for a lock (PostgreSQL: seen in pg_stat_activity)."""
    if engine.dialect.name != "postgresql":
        done, _ = await asyncio.wait({task}, timeout=0.3)
        assert not done, "the second writer must wait for the first (BEGIN IMMEDIATE)"
        return
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        assert not task.done(), f"the second approval did not wait: {task.result()}"
        # a new transaction each time: pg_stat_activity is a snapshot per transaction
        async with engine.connect() as connection:
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the second approval never waited for the lock")


async def test_two_coordinators_at_the_same_moment_never_take_the_stock_below_zero(
    engine, sessions
):
    first, second = await _setup(sessions, 1000, [600, 600])
    hold, holding = asyncio.Event(), asyncio.Event()
    a = asyncio.create_task(_approve(sessions, first, 600, hold, holding))
    await asyncio.wait_for(holding.wait(), 60)
    b = asyncio.create_task(_approve(sessions, second, 600))
    await _wait_blocked(engine, b)
    hold.set()
    assert await asyncio.wait_for(asyncio.gather(a, b), 60) == ["ok", "short"]
    async with sessions() as db:
        assert (await ppe.stock(db, ["gloves"]))["gloves"] == 400
        assert (await ppe.get_request(db, second)).status == ppe.SUBMITTED
        assert (await ppe.get_request(db, second)).lines[0].allocated is None


async def test_many_concurrent_approvals_allocate_exactly_what_is_there(sessions):
    ids = await _setup(sessions, 1000, [300] * 6)
    results = await asyncio.wait_for(
        asyncio.gather(*(_approve(sessions, rid, 300) for rid in ids)), 60
    )
    assert sorted(results) == ["ok"] * 3 + ["short"] * 3
    async with sessions() as db:
        assert (await ppe.stock(db, ["gloves"]))["gloves"] == 100
        movements = await ppe.movements(db)
    assert sum(m.quantity for m in movements) == 100


async def test_the_same_request_approved_twice_at_once_is_allocated_once(sessions):
    (only,) = await _setup(sessions, 1000, [200])
    results = await asyncio.gather(*(_approve(sessions, only, 200) for _ in range(3)))
    assert sorted(results) == ["ok", "stale", "stale"]
    async with sessions() as db:
        assert (await ppe.stock(db, ["gloves"]))["gloves"] == 800


async def test_priority_urgency_then_needed_by_then_days_of_stock_left(sessions):
    now = utcnow()
    soon = now.date() + timedelta(days=3)
    async with sessions() as db, db.begin():
        await ppe.record_movements(db, {"ffp2_mask": 100000}, kind=ppe.SUPPLY, source="purchase")
        heavy = await ppe.get_department(db, "gesundheitsamt", create=True)
        light = await ppe.get_department(db, "ordnungsamt", create=True)
        unknown = await ppe.get_department(db, "jugendamt", create=True)
        for department, qty, ago in ((heavy, 2800, 9), (light, 2800, 2)):
            done = await ppe.create_request(
                db,
                department,
                None,
                [("ffp2_mask", qty)],
                urgency=ppe.NORMAL,
                needed_by=None,
                delivery_address="x",
                at=now - timedelta(days=ago + 1),
            )
            await ppe.approve(db, done, {"ffp2_mask": qty}, None)
            done.status, done.delivered_at = ppe.DELIVERED, now - timedelta(days=ago)

        async def ask(department, urgency, needed_by, minutes_ago):
            return await ppe.create_request(
                db,
                department,
                None,
                [("ffp2_mask", 100)],
                urgency=urgency,
                needed_by=needed_by,
                delivery_address="x",
                at=now - timedelta(minutes=minutes_ago),
            )

        late_urgent = await ask(unknown, ppe.URGENT, soon + timedelta(days=9), 1)
        early = await ask(unknown, ppe.NORMAL, soon - timedelta(days=1), 2)
        no_history = await ask(unknown, ppe.NORMAL, soon, 50)
        lasts_long = await ask(light, ppe.NORMAL, soon, 40)
        runs_out = await ask(heavy, ppe.NORMAL, soon, 3)
        no_date = await ask(heavy, ppe.NORMAL, None, 60)
        expected = [late_urgent, early, runs_out, lasts_long, no_history, no_date]
    async with sessions() as db:
        submitted = await ppe.open_requests(db)
        left = await ppe.days_of_stock_left(db, [r.department_id for r in submitted], 28, now)
        # 2800 in 28 days = 100 a day: the health office's delivery 9 days ago lasts 19 more
        assert left[(heavy.id, "ffp2_mask")] == pytest.approx(19, abs=0.01)
        assert left[(light.id, "ffp2_mask")] == pytest.approx(26, abs=0.01)
        order = ppe.by_priority(submitted, left)
        assert [r.id for r in await ppe.prioritised(db, 28, now)] == [r.id for r in order]
    assert [r.id for r in order] == [r.id for r in expected]


async def test_chart_is_a_png_and_the_csv_adds_up_to_the_stock(sessions, tmp_path):
    async with sessions() as db, db.begin():
        await load_demo(db)
        await ppe.record_movements(
            db, {"goggles": -50}, kind=ppe.CORRECTION, reason='Bruch, "Kiste 3"'
        )
    config = config_from_mapping({}, tmp_path)
    async with sessions() as db:
        png, csv_bytes = await build_report(db, config, utcnow())
        stock = await ppe.stock(db)
    image = imread(io.BytesIO(png), format="png")
    assert image.shape[0] > 400 and image.shape[1] > 600
    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8"))))
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["item"]] = totals.get(row["item"], 0) + int(row["quantity"])
        assert int(row["stock_after"]) == totals[row["item"]] >= 0
    assert totals == {key: value for key, value in stock.items() if value or key in totals}
    assert any(row["reason"] == 'Bruch, "Kiste 3"' for row in rows)
    assert any(row["request"].startswith("PSA-") for row in rows)


async def test_demo_data_is_idempotent_and_has_open_and_delivered_requests(sessions):
    async with sessions() as db, db.begin():
        await load_demo(db)
    async with sessions() as db, db.begin():
        await load_demo(db)
    async with sessions() as db:
        assert len(await ppe.open_requests(db, ppe.SUBMITTED)) == len(ppe.DEMO_OPEN)
        assert len(await ppe.open_requests(db, ppe.DELIVERED)) == len(ppe.DEMO_REQUESTS)
        assert min((await ppe.stock(db)).values()) > 0


def test_cli_writes_the_report(tmp_path: Path):
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  url: sqlite+aiosqlite:///{tmp_path / 'c.db'}\n")
    assert main(["ppe", "report", "--out", str(tmp_path / "out"), "--config", str(config)]) == 0
    files = sorted(p.suffix for p in (tmp_path / "out").iterdir())
    assert files == [".csv", ".png"]
    png = next((tmp_path / "out").glob("*.png")).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("200 ffp2 masken und 2 kartons handschuhe", [["ffp2_mask", 200], ["gloves", 200]]),
        ("3 boxes of ffp2 masks", [["ffp2_mask", 60]]),
        ("10 liter desinfektionsmittel", [["disinfectant", 10]]),
        ("ffp2 masken 100 stück", [["ffp2_mask", 100]]),  # the quantity after its item
        ("brauchen dringend handschuhe, so 2 kartons", [["gloves", 200]]),
        ("gloves, 2 boxes", [["gloves", 200]]),
        ("handschuhe 50 und 20 ffp2 masken", [["gloves", 50], ["ffp2_mask", 20]]),
    ],
)
def test_items_and_packs(message, expected):
    entities = _entities(message)
    assert ppe_input.items_in(message, entities, 1000) == expected


@pytest.mark.parametrize(
    ("message", "key"),
    [
        ("0 masken", "ppe.bad.zero"),
        ("-5 masken", "ppe.bad.negative"),
        ("1001 kartons handschuhe", "ppe.bad.absurd"),
        ("20001 ffp2 masken", "ppe.bad.absurd"),
        ("100 klopapier", "ppe.bad.unknown_item"),
        ("handschuhe", "ppe.bad.no_quantity"),
        ("handschuhe und 200 ffp2 masken", "ppe.bad.no_quantity"),  # 200 is the masks'
    ],
)
def test_bad_quantities(message, key):
    with pytest.raises(ppe_input.Invalid) as caught:
        ppe_input.items_in(message, _entities(message), 1000)
    assert caught.value.key == key


def test_dates_and_numbers():
    today = date(2026, 12, 4)
    assert ppe_input.date_in("12.12.", [], today) == date(2026, 12, 12)
    assert ppe_input.date_in("1.2.", [], today) == date(2027, 2, 1)
    assert ppe_input.date_in("bis 2026-12-24", [], today) == date(2026, 12, 24)
    assert ppe_input.request_id("PSA-2026-0042") == 42
    assert ppe_input.request_id("#7") == 7 and ppe_input.request_id("abc") is None
    assert ppe_input.allocation_pairs(["ffp2_mask", "100", "handschuhe", "1.000"]) == {
        "ffp2_mask": 100,
        "gloves": 1000,
    }


def _entities(message: str) -> list[dict]:
    """Entities as the NLU gives them, for the few words these tests use."""
    found = []
    words = {
        "ffp2 masken": "ffp2_mask",
        "ffp2 masks": "ffp2_mask",
        "masken": "surgical_mask",
        "handschuhe": "gloves",
        "gloves": "gloves",
        "desinfektionsmittel": "disinfectant",
    }
    import re

    for match in re.finditer(r"(?<![-\w])\d+(?!\w)", message):
        found.append(
            {
                "entity": "quantity",
                "value": int(match.group()),
                "start": match.start(),
                "end": match.end(),
            }
        )
    taken: list[tuple[int, int]] = []
    for surface, key in words.items():
        for match in re.finditer(surface, message):
            if any(s <= match.start() < e for s, e in taken):
                continue
            taken.append((match.start(), match.end()))
            found.append(
                {"entity": "ppe_item", "value": key, "start": match.start(), "end": match.end()}
            )
    return sorted(found, key=lambda e: e["start"])


def test_catalogue_config_and_nlu_agree():
    from bot.config import PPE_LOW_STOCK, ConfigError
    from nlu.contract import CANONICAL

    assert set(ppe.ITEMS) == set(PPE_LOW_STOCK) == set(CANONICAL["ppe_item"])
    partial = config_from_mapping({"ppe": {"low_stock": {"gloves": 5}}})
    assert partial.ppe.low_stock["gloves"] == 5 and partial.ppe.low_stock["gown"] == 500
    with pytest.raises(ConfigError, match=r"ppe\.low_stock: unknown item 'klopapier'"):
        config_from_mapping({"ppe": {"low_stock": {"klopapier": 5}}})
    with pytest.raises(ConfigError, match=r"ppe\.summary_time"):
        config_from_mapping({"ppe": {"summary_time": "7:30"}})


def test_a_counted_item_reads_as_a_quantity_of_its_unit():
    from bot.i18n import translator
    from handlers.ppe_text import pieces_text

    assert pieces_text(translator("en"), "en", "disinfectant", 5) == (
        "5 bottles of disinfectant (1 l)"
    )
    assert pieces_text(translator("de"), "de", "disinfectant", 1_500) == (
        "1.500 Flaschen Desinfektionsmittel (1 l)"
    )
    assert pieces_text(translator("en"), "en", "ffp2_mask", 200) == "200 FFP2 masks"
