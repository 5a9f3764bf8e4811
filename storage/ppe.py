"""PPE: departments, the item catalogue, requests with several items, the stock ledger.

The stock of an item is the sum of its movements (supply +, allocation -, correction ±).
Every movement first locks the item's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite
transactions start with ``BEGIN IMMEDIATE``), then sums and checks: two coordinators
allocating at the same moment are serialised and the stock never goes below zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from storage.base import Base, UTCDateTime, utcnow
from storage.demo import read_demo_file, seeder
from storage.privacy import eraser, exporter, rows_linked_to
from storage.users import RoleGrant

SUBMITTED, APPROVED, REJECTED, DELIVERED, WITHDRAWN = (
    "submitted",
    "approved",
    "rejected",
    "delivered",
    "withdrawn",
)
OPEN_STATES = (SUBMITTED, APPROVED)
NORMAL, URGENT = "normal", "urgent"
SUPPLY, ALLOCATION, CORRECTION = "supply", "allocation", "correction"
SOURCES = ("purchase", "donation", "local_makers")


@dataclass(frozen=True)
class ItemSpec:
    """A catalogue item: counted in single pieces; a pack (box, carton) holds pack_size.

    family: what people call several items alike ("Masken" for FFP2 and surgical masks).
    """

    key: str
    pack_size: int
    family: str = ""


ITEMS: dict[str, ItemSpec] = {
    spec.key: spec
    for spec in (
        ItemSpec("ffp2_mask", 20, "mask"),
        ItemSpec("surgical_mask", 50, "mask"),
        ItemSpec("gloves", 100),
        ItemSpec("gown", 10),
        ItemSpec("face_shield", 25),
        ItemSpec("goggles", 10),
        ItemSpec("disinfectant", 12),
    )
}
MASKS: tuple[str, ...] = tuple(key for key, spec in ITEMS.items() if spec.family == "mask")


class StockError(Exception):
    """A movement that would take an item's stock below zero."""

    def __init__(self, item: str, stock: int, wanted: int) -> None:
        super().__init__(item)
        self.item, self.stock, self.wanted = item, stock, wanted


class Department(Base):
    """A requesting department; key is the org of its ppe_requester grants."""

    __tablename__ = "ppe_departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    delivery_address: Mapped[str | None] = mapped_column(String(300))


class Item(Base):
    """An item's ledger anchor: the row every movement of the item locks first."""

    __tablename__ = "ppe_items"

    key: Mapped[str] = mapped_column(String(30), primary_key=True)
    low_notified: Mapped[bool] = mapped_column(Boolean, default=False)


class PPERequest(Base):
    """A department's request for one or more items."""

    __tablename__ = "ppe_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("ppe_departments.id"), index=True)
    requested_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(12), default=SUBMITTED, index=True)
    urgency: Mapped[str] = mapped_column(String(10), default=NORMAL)
    needed_by: Mapped[date | None] = mapped_column(Date)
    delivery_address: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    department: Mapped[Department] = relationship(lazy="joined", innerjoin=True)
    lines: Mapped[list[RequestLine]] = relationship(
        lazy="selectin", order_by="RequestLine.id", cascade="all, delete-orphan"
    )


class RequestLine(Base):
    """One item of a request: pieces requested and (once decided) allocated."""

    __tablename__ = "ppe_request_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("ppe_requests.id", ondelete="CASCADE"), index=True
    )
    item: Mapped[str] = mapped_column(ForeignKey("ppe_items.key"))
    requested: Mapped[int] = mapped_column(Integer)
    allocated: Mapped[int | None] = mapped_column(Integer)


class Movement(Base):
    """One change of the central stock; the stock is the sum of these."""

    __tablename__ = "ppe_movements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item: Mapped[str] = mapped_column(ForeignKey("ppe_items.key"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    source: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(300))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("ppe_requests.id", ondelete="SET NULL"), index=True
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


def request_number(request: PPERequest) -> str:
    """The number people quote: PSA-<year>-<id, four digits>."""
    return f"PSA-{request.created_at.year}-{request.id:04d}"


@cache
def _department_names() -> dict[str, str]:
    return {row["key"]: str(row["name"]) for row in read_demo_file("ppe").get("departments", [])}


def department_name(key: str) -> str:
    """The department's name from the data file (read once), or its key."""
    return _department_names().get(key, key)


async def get_department(db: AsyncSession, key: str, *, create: bool = False) -> Department | None:
    """A department by key; with create, made on first use (name from the data file)."""
    found = await db.scalar(select(Department).where(Department.key == key))
    if found is None and create:
        found = Department(key=key, name=department_name(key))
        db.add(found)
        await db.flush()
    return found


async def ensure_items(db: AsyncSession) -> None:
    """Make sure every catalogue item has its ledger row."""
    have = set(await db.scalars(select(Item.key)))
    for key in ITEMS:
        if key not in have:
            db.add(Item(key=key))
    await db.flush()


async def stock(db: AsyncSession, items: Iterable[str] | None = None) -> dict[str, int]:
    """The current stock per item (the sum of its movements; 0 when none)."""
    keys = list(items) if items is not None else list(ITEMS)
    rows = await db.execute(
        select(Movement.item, func.coalesce(func.sum(Movement.quantity), 0))
        .where(Movement.item.in_(keys))
        .group_by(Movement.item)
    )
    found = {item: int(total) for item, total in rows}
    return {key: found.get(key, 0) for key in keys}


async def _lock_items(db: AsyncSession, keys: Iterable[str]) -> None:
    """Lock the ledger rows of the items (in key order, so two lockers cannot deadlock)."""
    await db.execute(
        select(Item.key).where(Item.key.in_(sorted(set(keys)))).order_by(Item.key).with_for_update()
    )


async def record_movements(
    db: AsyncSession,
    changes: dict[str, int],
    *,
    kind: str,
    user_id: int | None = None,
    source: str | None = None,
    reason: str | None = None,
    request_id: int | None = None,
    at: datetime | None = None,
) -> dict[str, int]:
    """Record movements (item -> signed pieces) atomically; StockError if one goes below 0.

    Returns the new stock of the items. Nothing is written when any item would go negative.
    """
    changes = {item: qty for item, qty in changes.items() if qty}
    await _lock_items(db, changes)
    current = await stock(db, changes)
    for item, qty in changes.items():
        if current[item] + qty < 0:
            raise StockError(item, current[item], -qty)
    for item, qty in changes.items():
        db.add(
            Movement(
                item=item,
                quantity=qty,
                kind=kind,
                source=source,
                reason=reason,
                request_id=request_id,
                created_by=user_id,
                created_at=at or utcnow(),
            )
        )
    await db.flush()
    return {item: current[item] + qty for item, qty in changes.items()}


async def last_movement_id(db: AsyncSession, item: str) -> int:
    """The id of an item's newest movement (0 when none)."""
    return await db.scalar(select(func.max(Movement.id)).where(Movement.item == item)) or 0


async def crossed_low(
    db: AsyncSession, levels: dict[str, int], thresholds: dict[str, int]
) -> list[str]:
    """Items whose stock just fell below their threshold (each reported once until refilled)."""
    crossed = []
    for key, level in levels.items():
        item = await db.get(Item, key)
        limit = thresholds.get(key)
        if item is None or limit is None:
            continue
        if level < limit and not item.low_notified:
            item.low_notified = True
            crossed.append(key)
        elif level >= limit and item.low_notified:
            item.low_notified = False
    await db.flush()
    return crossed


async def create_request(
    db: AsyncSession,
    department: Department,
    user_id: int | None,
    lines: Sequence[tuple[str, int]],
    *,
    urgency: str,
    needed_by: date | None,
    delivery_address: str,
    note: str = "",
    at: datetime | None = None,
) -> PPERequest:
    """Store a submitted request and remember the department's delivery address."""
    request = PPERequest(
        department_id=department.id,
        requested_by=user_id,
        urgency=urgency,
        needed_by=needed_by,
        delivery_address=delivery_address,
        note=note,
        created_at=at or utcnow(),
        lines=[RequestLine(item=item, requested=qty) for item, qty in lines],
    )
    db.add(request)
    department.delivery_address = delivery_address
    await db.flush()
    request.number = request_number(request)
    await db.flush()
    return request


async def get_request(
    db: AsyncSession, request_id: int, *, lock: bool = False
) -> PPERequest | None:
    """A request by id; with lock, its row is locked for a state change."""
    query = select(PPERequest).where(PPERequest.id == request_id)
    if lock:
        query = query.with_for_update(of=PPERequest)
    request = await db.scalar(query.execution_options(populate_existing=lock))
    return request


async def requests_of(
    db: AsyncSession, department_keys: Sequence[str], limit: int = 10
) -> list[PPERequest]:
    """The newest requests of the departments."""
    query = (
        select(PPERequest)
        .join(Department)
        .where(Department.key.in_(department_keys))
        .order_by(PPERequest.created_at.desc(), PPERequest.id.desc())
        .limit(limit)
    )
    return list(await db.scalars(query))


async def open_requests(db: AsyncSession, status: str = SUBMITTED) -> list[PPERequest]:
    """Requests in a state (submitted: the queue), oldest first."""
    query = select(PPERequest).where(PPERequest.status == status).order_by(PPERequest.id)
    return list(await db.scalars(query.options(selectinload(PPERequest.lines))))


async def approve(
    db: AsyncSession, request: PPERequest, allocation: dict[str, int], user_id: int | None
) -> dict[str, int]:
    """Allocate pieces per item from the stock and mark the request approved.

    The caller checked the state and that nothing exceeds what was requested; the stock is
    checked here under the item locks (StockError). Returns the new stock levels.
    """
    levels = await record_movements(
        db,
        {item: -qty for item, qty in allocation.items()},
        kind=ALLOCATION,
        user_id=user_id,
        request_id=request.id,
    )
    for line in request.lines:
        line.allocated = allocation.get(line.item, 0)
    request.status = APPROVED
    request.decided_at = utcnow()
    await db.flush()
    return levels


async def set_status(
    db: AsyncSession, request: PPERequest, status: str, reason: str | None = None
) -> None:
    """Move a request to rejected, withdrawn or delivered."""
    request.status = status
    if reason is not None:
        request.reason = reason
    if status == DELIVERED:
        request.delivered_at = utcnow()
    else:
        request.decided_at = utcnow()
    await db.flush()


async def coordinator_ids(db: AsyncSession) -> list[int]:
    """The users holding the ppe_coordinator role."""
    rows = await db.scalars(
        select(RoleGrant.user_id).where(RoleGrant.role == "ppe_coordinator").distinct()
    )
    return sorted(rows)


async def days_of_stock_left(
    db: AsyncSession, department_ids: Sequence[int], window_days: int, now: datetime | None = None
) -> dict[tuple[int, str], float]:
    """Per (department, item): how many days what it got last lasts at its recent consumption.

    The consumption rate is the pieces delivered in the last window_days divided by
    window_days; what is left is the last delivery minus the rate times the days since it.
    Pairs without a delivery in the window are missing (unknown).
    """
    now = now or utcnow()
    since = now - timedelta(days=window_days)
    rows = await db.execute(
        select(
            PPERequest.department_id,
            RequestLine.item,
            PPERequest.delivered_at,
            RequestLine.allocated,
        )
        .join(RequestLine, RequestLine.request_id == PPERequest.id)
        .where(
            PPERequest.status == DELIVERED,
            PPERequest.department_id.in_(department_ids),
            PPERequest.delivered_at >= since,
            RequestLine.allocated > 0,
        )
        .order_by(PPERequest.delivered_at)
    )
    total: dict[tuple[int, str], int] = {}
    last: dict[tuple[int, str], tuple[datetime, int]] = {}
    for department_id, item, delivered_at, allocated in rows:
        key = (department_id, item)
        total[key] = total.get(key, 0) + allocated
        last[key] = (delivered_at, allocated)
    left = {}
    for key, pieces in total.items():
        rate = pieces / window_days
        delivered_at, amount = last[key]
        elapsed = (now - delivered_at).total_seconds() / 86400
        left[key] = max(amount / rate - elapsed, 0.0)
    return left


def by_priority(
    requests: Sequence[PPERequest], days_left: dict[tuple[int, str], float]
) -> list[PPERequest]:
    """The queue order: urgent first, then the earliest needed-by date, then the fewest days
    of stock the department has left of the request's items (unknown counts as plenty),
    then the oldest request."""

    def key(request: PPERequest) -> tuple[int, date, float, datetime, int]:
        left = [
            days_left[(request.department_id, line.item)]
            for line in request.lines
            if (request.department_id, line.item) in days_left
        ]
        return (
            0 if request.urgency == URGENT else 1,
            request.needed_by or date.max,
            min(left) if left else float("inf"),
            request.created_at,
            request.id,
        )

    return sorted(requests, key=key)


async def prioritised(
    db: AsyncSession, window_days: int, now: datetime | None = None
) -> list[PPERequest]:
    """The submitted requests in queue order (see by_priority)."""
    submitted = await open_requests(db, SUBMITTED)
    left = await days_of_stock_left(db, [r.department_id for r in submitted], window_days, now)
    return by_priority(submitted, left)


async def movements(db: AsyncSession, since: datetime | None = None) -> list[Movement]:
    """All movements (or those since a time), oldest first."""
    query = select(Movement).order_by(Movement.created_at, Movement.id)
    if since is not None:
        query = query.where(Movement.created_at >= since)
    return list(await db.scalars(query))


async def request_numbers(db: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    """Request numbers by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await db.execute(
        select(PPERequest.id, PPERequest.number).where(PPERequest.id.in_(wanted))
    )
    return {rid: number or "" for rid, number in rows}


def allocated_total(request: PPERequest) -> int:
    """Pieces allocated to a request."""
    return sum(line.allocated or 0 for line in request.lines)


def fully_allocated(request: PPERequest) -> bool:
    """Whether every line got what it asked for."""
    return all((line.allocated or 0) >= line.requested for line in request.lines)


@exporter("ppe_movements")
async def export_movements(db: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """The stock movements the user booked (supplies, allocations, corrections)."""
    movements = await rows_linked_to(db, Movement.created_by, user_id)
    return [
        {
            "id": m.id,
            "item": m.item,
            "quantity": m.quantity,
            "kind": m.kind,
            "source": m.source,
            "reason": m.reason,
            "request_id": m.request_id,
            "created_at": m.created_at.isoformat(),
        }
        for m in movements
    ]


@exporter("ppe_requests")
async def export_requests(db: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """The PPE requests a user made."""
    found = await db.scalars(select(PPERequest).where(PPERequest.requested_by == user_id))
    return [
        {
            "number": r.number,
            "department": r.department.key,
            "status": r.status,
            "urgency": r.urgency,
            "needed_by": r.needed_by.isoformat() if r.needed_by else None,
            "note": r.note,
            "created_at": r.created_at.isoformat(),
            "items": {line.item: line.requested for line in r.lines},
        }
        for r in found
    ]


DEMO_REQUESTS: list[dict[str, Any]] = [
    # delivered ones (consumption history): department, days ago created/delivered, items
    {"dept": "feuerwehr", "ago": 40, "items": {"ffp2_mask": 800, "gloves": 2000}},
    {"dept": "feuerwehr", "ago": 26, "items": {"ffp2_mask": 600, "gown": 100}},
    {"dept": "feuerwehr", "ago": 12, "items": {"ffp2_mask": 700, "gloves": 1500}},
    {"dept": "gesundheitsamt", "ago": 33, "items": {"ffp2_mask": 1500, "gown": 300}},
    {"dept": "gesundheitsamt", "ago": 19, "items": {"ffp2_mask": 1200, "goggles": 80}},
    {"dept": "gesundheitsamt", "ago": 5, "items": {"ffp2_mask": 1000, "gloves": 4000}},
    {"dept": "ordnungsamt", "ago": 30, "items": {"surgical_mask": 3000, "disinfectant": 60}},
    {"dept": "ordnungsamt", "ago": 9, "items": {"surgical_mask": 2500}},
    {"dept": "staedtische-kitas", "ago": 21, "items": {"surgical_mask": 4000, "gloves": 3000}},
    {"dept": "buergerdienste", "ago": 15, "items": {"face_shield": 120, "disinfectant": 40}},
]
DEMO_OPEN: list[dict[str, Any]] = [
    {"dept": "gesundheitsamt", "urgency": URGENT, "due": 1, "items": {"ffp2_mask": 1500}},
    {
        "dept": "staedtische-kitas",
        "urgency": NORMAL,
        "due": 7,
        "items": {"surgical_mask": 3000, "disinfectant": 50},
    },
    {"dept": "feuerwehr", "urgency": NORMAL, "due": 5, "items": {"gloves": 2000, "gown": 80}},
    {"dept": "jugendamt", "urgency": NORMAL, "due": 10, "items": {"surgical_mask": 500}},
]
DEMO_ADDRESSES = {
    "feuerwehr": "Feuerwache 1, Steinstraße 25",
    "gesundheitsamt": "Hövelstraße 8, Lager EG",
    "ordnungsamt": "Olpe 1, Poststelle",
    "staedtische-kitas": "Zentrallager Kitas, Ruhrallee 3",
    "buergerdienste": "Südwall 2-4, Hausmeisterei",
    "jugendamt": "Ostwall 64, Zimmer 12",
}


@seeder("ppe", order=60)
async def seed_ppe(db: AsyncSession, read: Any) -> dict[str, int]:
    """Departments, the stock (as supplies six weeks ago) and a request history; idempotent."""
    data = read("ppe")
    await ensure_items(db)
    for row in data.get("departments", []):
        department = await get_department(db, row["key"], create=True)
        assert department is not None
        department.delivery_address = department.delivery_address or DEMO_ADDRESSES.get(row["key"])
    if await db.scalar(select(func.count()).select_from(Movement)):
        return {"ppe_departments": len(data.get("departments", []))}
    now = utcnow()
    start = now - timedelta(days=45)
    await record_movements(
        db, dict(data.get("stock", {})), kind=SUPPLY, source="purchase", at=start
    )
    await record_movements(
        db,
        {"face_shield": 400},
        kind=SUPPLY,
        source="local_makers",
        at=now - timedelta(days=20),
        reason="3D-Druck Fablab",
    )
    count = 0
    for row in DEMO_REQUESTS:
        department = await get_department(db, row["dept"])
        assert department is not None
        created = now - timedelta(days=row["ago"] + 1)
        request = await create_request(
            db,
            department,
            None,
            list(row["items"].items()),
            urgency=NORMAL,
            needed_by=(created + timedelta(days=3)).date(),
            delivery_address=department.delivery_address or department.name,
            at=created,
        )
        await record_movements(
            db,
            {k: -v for k, v in row["items"].items()},
            kind=ALLOCATION,
            request_id=request.id,
            at=created + timedelta(hours=5),
        )
        for line in request.lines:
            line.allocated = line.requested
        request.status = DELIVERED
        request.decided_at = created + timedelta(hours=5)
        request.delivered_at = now - timedelta(days=row["ago"])
        count += 1
    for row in DEMO_OPEN:
        department = await get_department(db, row["dept"])
        assert department is not None
        await create_request(
            db,
            department,
            None,
            list(row["items"].items()),
            urgency=row["urgency"],
            needed_by=(now + timedelta(days=row["due"])).date(),
            delivery_address=department.delivery_address or department.name,
            at=now - timedelta(hours=row["due"] * 3),
        )
        count += 1
    await db.flush()
    return {"ppe_departments": len(data.get("departments", [])), "ppe_requests": count}


@eraser("ppe_requests")
async def forget_notes_of(db: AsyncSession, user_id: int) -> None:
    """Before a user is erased: their requests stay (the department's stock records, requested_by
    becomes NULL), but the note they wrote goes with them."""
    await db.execute(
        update(PPERequest).where(PPERequest.requested_by == user_id).values(note="")
    )
