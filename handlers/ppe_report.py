"""PPE report for the crisis team: a PNG chart of stock and allocations, a CSV of movements."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from storage import ppe
from storage.ppe import ITEMS, Movement

CSV_HEADER = (
    "id",
    "time_utc",
    "item",
    "quantity",
    "kind",
    "source",
    "request",
    "reason",
    "stock_after",
)


def movements_csv(rows: list[Movement], numbers: dict[int, str]) -> bytes:
    """Every movement with the item's running stock after it (UTF-8, comma separated)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    running: dict[str, int] = {}
    for row in rows:
        running[row.item] = running.get(row.item, 0) + row.quantity
        writer.writerow(
            (
                row.id,
                row.created_at.isoformat(timespec="seconds"),
                row.item,
                row.quantity,
                row.kind,
                row.source or "",
                numbers.get(row.request_id, "") if row.request_id else "",
                row.reason or "",
                running[row.item],
            )
        )
    return out.getvalue().encode("utf-8")


def _series(
    rows: list[Movement], days: list[date], tz: object
) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Per item: the stock at the end of each day, and the pieces allocated on each day."""
    levels = {key: [0] * len(days) for key in ITEMS}
    allocated = {key: [0] * len(days) for key in ITEMS}
    index = {d: i for i, d in enumerate(days)}
    before = {key: 0 for key in ITEMS}
    per_day: dict[str, dict[int, int]] = {key: {} for key in ITEMS}
    for row in rows:
        day = row.created_at.astimezone(tz).date()  # type: ignore[arg-type]
        if day < days[0]:
            before[row.item] += row.quantity
            continue
        i = index.get(day)
        if i is None:
            continue
        per_day[row.item][i] = per_day[row.item].get(i, 0) + row.quantity
        if row.kind == ppe.ALLOCATION:
            allocated[row.item][i] -= row.quantity
    for key in ITEMS:
        level = before[key]
        for i in range(len(days)):
            level += per_day[key].get(i, 0)
            levels[key][i] = level
    return levels, allocated


def render_chart(
    days: list[date], levels: dict[str, list[int]], allocated: dict[str, list[int]], title: str
) -> bytes:
    """One small panel per item: stock (line) and allocated demand per day (bars)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 10), dpi=90)
    figure.suptitle(title)
    axes = figure.subplots(4, 2).flatten()
    for ax, key in zip(axes, ITEMS, strict=False):
        ax.bar(days, allocated[key], color="#e0a040", label="allocated / zugeteilt")
        ax.plot(days, levels[key], color="#2060a0", linewidth=2, label="stock / Bestand")
        ax.set_title(key)
        ax.set_ylim(bottom=0)
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper right", fontsize=7)
    for ax in axes[len(ITEMS) :]:
        ax.set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


async def build_report(db: AsyncSession, config: Config, now: datetime) -> tuple[bytes, bytes]:
    """The chart of the last ppe.report_weeks weeks (PNG) and the CSV of all movements."""
    rows = await ppe.movements(db)
    numbers = await ppe.request_numbers(db, [r.request_id for r in rows if r.request_id])
    tz = config.city.tz
    end = now.astimezone(tz).date()
    days = [end - timedelta(days=n) for n in range(config.ppe.report_weeks * 7 - 1, -1, -1)]
    levels, allocated = _series(rows, days, tz)
    title = f"PSA / PPE {config.city.name}: {days[0].isoformat()} – {end.isoformat()}"
    png = await asyncio.to_thread(render_chart, days, levels, allocated, title)
    return png, movements_csv(rows, numbers)


async def write_report(config: Config, out_dir: Path) -> list[Path]:
    """`citybot ppe report --out DIR`: write the chart and the CSV; returns their paths."""
    from bot.app import prepare_database
    from storage.base import utcnow
    from storage.db import session_factory

    engine = await prepare_database(config)
    try:
        async with session_factory(engine)() as db:
            now = utcnow()
            png, csv_bytes = await build_report(db, config, now)
    finally:
        await engine.dispose()
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = now.astimezone(config.city.tz).strftime("%Y-%m-%d")
    paths = [out_dir / f"ppe-stock-{stamp}.png", out_dir / f"ppe-movements-{stamp}.csv"]
    paths[0].write_bytes(png)
    paths[1].write_bytes(csv_bytes)
    return paths
