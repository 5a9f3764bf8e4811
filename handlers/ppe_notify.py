"""PPE notifications: the requester hears of every change, coordinators of urgent requests,
low stock and, daily, the queue."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.context import Context
from bot.i18n import Translate
from bot.messages import Button, Reply
from bot.notify import notify
from bot.registry import payload
from bot.scheduler import recurring, runtime
from handlers.ppe_text import item_name, number, status_line
from storage import ppe
from storage.base import utcnow
from storage.outbox import existing_keys
from storage.ppe import PPERequest


def compose_change(t: Translate, lang: str, request: PPERequest) -> list[Reply]:
    """What the requester is told when their request changes."""
    return [
        Reply(
            t("ppe.changed", number=request.number) + "\n" + status_line(t, lang, request),
            [Button(t("ppe.button.status"), "ppe.status")],
        )
    ]


async def tell_requester(ctx: Context, request: PPERequest) -> None:
    """Queue the change of a request for the person who asked (once per state)."""
    if request.requested_by is None:
        return
    from storage.users import User

    user = await ctx.db.get(User, request.requested_by)
    lang = user.language if user else "de"
    await notify(
        ctx.db,
        request.requested_by,
        lambda t: compose_change(t, lang, request),
        dedup_key=f"ppe:change:{request.id}:{request.status}",
    )


def compose_urgent(t: Translate, request: PPERequest) -> list[Reply]:
    """An urgent request, for the coordinators."""
    items = ", ".join(f"{line.requested} {item_name(t, line.item)}" for line in request.lines)
    return [
        Reply(
            t(
                "ppe.urgent_new",
                number=request.number,
                department=request.department.name,
                items=items,
            ),
            [Button(t("ppe.button.open"), payload("ppe.show", request.id))],
        )
    ]


async def alert_urgent(db: AsyncSession, request: PPERequest) -> None:
    """Tell every coordinator of a new urgent request at once."""
    for user_id in await ppe.coordinator_ids(db):
        await notify(
            db,
            user_id,
            lambda t, r=request: compose_urgent(t, r),
            dedup_key=_urgent_key(request, user_id),
        )


def _urgent_key(request: PPERequest, user_id: int) -> str:
    return f"ppe:urgent:{request.id}:{user_id}"


def compose_withdrawn(t: Translate, request: PPERequest) -> list[Reply]:
    """An urgent request withdrawn by its department, for the coordinators alerted to it."""
    text = t("ppe.urgent_withdrawn", number=request.number, department=request.department.name)
    return [Reply(text)]


async def tell_withdrawn(db: AsyncSession, request: PPERequest) -> None:
    """Tell the coordinators who were alerted to an urgent request that it was withdrawn
    (a normal one only leaves the queue)."""
    if request.urgency != ppe.URGENT:
        return
    coordinators = await ppe.coordinator_ids(db)
    alerted = await existing_keys(db, [_urgent_key(request, user_id) for user_id in coordinators])
    for user_id in coordinators:
        if _urgent_key(request, user_id) in alerted:
            await notify(
                db,
                user_id,
                lambda t, r=request: compose_withdrawn(t, r),
                dedup_key=f"ppe:withdrawn:{request.id}:{user_id}",
            )


def compose_low(t: Translate, item: str, level: int, limit: int) -> list[Reply]:
    """An item fell below its low-stock threshold."""
    stock, threshold = number(t("locale"), level), number(t("locale"), limit)  # 1.100, not 1100
    return [Reply(t("ppe.low_stock", item=item_name(t, item), stock=stock, limit=threshold))]


async def warn_low_stock(ctx: Context, levels: dict[str, int]) -> None:
    """Tell the coordinators once about each item that just fell below its threshold."""
    limits = ctx.config.ppe.low_stock
    for item in await ppe.crossed_low(ctx.db, levels, limits):
        stamp = await ppe.last_movement_id(ctx.db, item)
        for user_id in await ppe.coordinator_ids(ctx.db):
            await notify(
                ctx.db,
                user_id,
                lambda t, i=item: compose_low(t, i, levels[i], limits[i]),
                dedup_key=f"ppe:low:{item}:{stamp}:{user_id}",
            )


def compose_summary(t: Translate, ordered: list[PPERequest], approved: int) -> list[Reply]:
    """The daily queue summary for coordinators."""
    urgent = sum(r.urgency == ppe.URGENT for r in ordered)
    lines = [t("ppe.summary_daily", count=len(ordered), urgent=urgent, approved=approved)]
    lines += [f"{n}. {r.number} · {r.department.name}" for n, r in enumerate(ordered[:5], 1)]
    return [Reply("\n".join(lines), [Button(t("ppe.button.queue"), "ppe.queue")])]


@recurring(
    "ppe_queue_summary",
    lambda c: CronTrigger(
        hour=int(c.ppe.summary_time[:2]), minute=int(c.ppe.summary_time[3:]), timezone=c.city.tz
    ),
)
async def daily_summary() -> int:
    """Daily: tell every coordinator how many requests wait (nothing when none do)."""
    app = runtime()
    today_text = utcnow().astimezone(app.config.city.tz).date().isoformat()
    async with app.sessions() as db, db.begin():
        return await send_summary(db, app.config, today_text)


async def send_summary(
    db: AsyncSession, config: Config, stamp: str, now: datetime | None = None
) -> int:
    """Queue the queue summary for every coordinator (once per stamp); returns how many."""
    ordered = await ppe.prioritised(db, config.ppe.consumption_days, now)
    approved = await ppe.open_requests(db, ppe.APPROVED)
    if not ordered and not approved:
        return 0
    sent = 0
    for user_id in await ppe.coordinator_ids(db):
        sent += await notify(
            db,
            user_id,
            lambda t: compose_summary(t, ordered, len(approved)),
            dedup_key=f"ppe:summary:{stamp}:{user_id}",
        )
    return sent
