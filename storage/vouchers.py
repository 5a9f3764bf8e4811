"""Vouchers and donations: codes with a check character, the value ledger, reservations.

A voucher's balance is the SUM of its ledger entries; nothing updates a balance directly.
Entry kinds (amount_cents is the change of the voucher's value, paid_cents money received):

- issue       +face   the voucher is created (reserved: not spendable until paid)
- payment      0      money received (paid_cents = face) - the voucher becomes active
- redemption  -x      taken at the till
- expiry      -rest   the voucher expired (end of the third year after purchase)
- lapse       -face   a reservation was not paid in time

A donation is a row of kind 'donation' (its code is only a payment reference): it has no
value entries, only its payment entry. Every change takes the voucher row's lock first
(SELECT ... FOR UPDATE on PostgreSQL; SQLite transactions are BEGIN IMMEDIATE), so two
redemptions of the same voucher at the same time cannot overdraw it.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, Integer, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow
from storage.demo import seeder
from storage.privacy import exporter, rows_linked_to
from storage.shops import Shop, shop_by_key

ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no I, L, O, U, 0, 1
CODE_LENGTH = 8
CHECK_OFFSET = 1  # Luhn mod 30 with the sum starting at 1 (makes the docs' K7QF-2M9X valid)
# characters that never occur in a code, and the code characters they are mistaken for
LOOKALIKES = {"O": "DQ", "0": "DQ", "I": "J7T", "1": "J7T", "L": "J7T", "U": "V"}
MAX_DOUBTFUL = 2
LOOSE_CODE = re.compile(r"(?<![\w-])([0-9A-Z]{4})-?([0-9A-Z]{4})(?![\w-])", re.IGNORECASE)
# two four-character words ("PCCD ZF23"), found overlapping: "auf PCCD ZF23" tries each pair
SPACED_CODE = re.compile(r"(?<![\w-])(?=([0-9A-Z]{4})\s+([0-9A-Z]{4})(?![\w-]))", re.IGNORECASE)

VOUCHER, DONATION = "voucher", "donation"
RESERVED, ACTIVE, LAPSED, EXPIRED = "reserved", "active", "lapsed", "expired"
INVOICE, IN_SHOP = "invoice", "shop"
ISSUE, PAYMENT, REDEMPTION, EXPIRY, LAPSE = "issue", "payment", "redemption", "expiry", "lapse"


class Voucher(Base):
    """A voucher (or a donation) for one shop; its value lives in the ledger."""

    __tablename__ = "vouchers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default=VOUCHER)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    buyer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    face_cents: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), index=True)
    payment: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reserved_until: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LedgerEntry(Base):
    """One change of a voucher's value or one payment received; never updated, never deleted."""

    __tablename__ = "voucher_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vouchers.id"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    amount_cents: Mapped[int] = mapped_column(Integer)
    paid_cents: Mapped[int] = mapped_column(Integer, default=0)
    charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class WrongCode(Base):
    """A code a user tried that matched no voucher (for throttling guesses; no code stored)."""

    __tablename__ = "voucher_wrong_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- codes ------------------------------------------------------------------------------


class CodeError(ValueError):
    """A text that is not a voucher code; reason is a message key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _luhn_sum(chars: str, first_factor: int) -> int:
    total, factor, n = CHECK_OFFSET, first_factor, len(ALPHABET)
    for ch in reversed(chars):
        addend = factor * ALPHABET.index(ch)
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return total


def check_char(body: str) -> str:
    """The check character for the first seven characters of a code (Luhn mod 30)."""
    n = len(ALPHABET)
    return ALPHABET[(n - _luhn_sum(body, 2) % n) % n]


def is_valid(code: str) -> bool:
    """Whether eight alphabet characters end in their check character."""
    return (
        len(code) == CODE_LENGTH
        and all(ch in ALPHABET for ch in code)
        and _luhn_sum(code, 1) % len(ALPHABET) == 0
    )


def new_code() -> str:
    """A fresh random code (eight characters, the last one the check character)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH - 1))
    return body + check_char(body)


def format_code(code: str) -> str:
    """A code as shown: XXXX-XXXX."""
    return f"{code[:4]}-{code[4:]}"


def read_code(text: str) -> str:
    """A typed code in its stored form (any case, with or without dash, look-alikes fixed).

    O/0, I/1/L and U never occur in codes; each is replaced by the code characters it is
    mistaken for (O/0 -> D or Q, I/1/L -> J, 7 or T, U -> V) and the result is accepted only
    when exactly one replacement passes the check character. Raises CodeError
    ('vouchers.code.format' or 'vouchers.code.check').
    """
    raw = re.sub(r"[\s-]", "", text.upper())
    if len(raw) != CODE_LENGTH or any(ch not in ALPHABET and ch not in LOOKALIKES for ch in raw):
        raise CodeError("vouchers.code.format")
    options = [LOOKALIKES.get(ch, ch) for ch in raw]
    if sum(len(o) > 1 or o != raw[i] for i, o in enumerate(options)) > MAX_DOUBTFUL:
        raise CodeError("vouchers.code.check")
    valid = {"".join(c) for c in itertools.product(*options) if is_valid("".join(c))}
    if len(valid) != 1:
        raise CodeError("vouchers.code.check")
    return valid.pop()


def code_in_text(text: str) -> str | None:
    """Something shaped like a code in a text, for read_code: letters and digits (look-alikes
    included), or only letters of the code alphabet written as issued – with the dash
    ("gsez-rdnm") or in capitals ("GSEZRDNM"); words ("bitte", "guthaben") are no codes."""
    for match in LOOSE_CODE.finditer(text):
        found = match.group(1) + match.group(2)
        if any(ch.isdigit() for ch in found) and any(ch.isalpha() for ch in found):
            return found
        if _letters_as_issued(match.group(0)):
            return found
    return _spaced_code(text)


def _spaced_code(text: str) -> str | None:
    """A code written as two words ("wie viel ist noch auf PCCD ZF23", "pcc0 zf23"), joined:
    only when they hold letters and digits and pass the check character (two ordinary words
    such as "habe zeit" or "HABE ZEIT" are no code)."""
    for match in SPACED_CODE.finditer(text):
        found = match.group(1) + match.group(2)
        if not (any(ch.isdigit() for ch in found) and any(ch.isalpha() for ch in found)):
            continue
        try:
            read_code(found)
        except CodeError:
            continue
        return found
    return None


def _letters_as_issued(word: str) -> bool:
    """Whether a word of eight letters reads as a code written as issued: all from the code
    alphabet, with the dash or in capitals (a word in small letters like "abendbar" is not)."""
    letters = word.replace("-", "")
    as_issued = "-" in word or letters.isupper()
    return as_issued and letters.isalpha() and all(ch in ALPHABET for ch in letters.upper())


# --- time ---------------------------------------------------------------------------------


def expiry_for(paid_at: datetime, tz: ZoneInfo) -> datetime:
    """End of the third year after the purchase year (§§ 195, 199 BGB), as a UTC moment."""
    year = paid_at.astimezone(tz).year
    return datetime(year + 4, 1, 1, tzinfo=tz).astimezone(UTC)


# --- reading ------------------------------------------------------------------------------


async def balance(db: AsyncSession, voucher_id: int) -> int:
    """A voucher's value: the sum of its ledger."""
    total = await db.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.voucher_id == voucher_id
        )
    )
    return int(total or 0)


async def by_code(db: AsyncSession, code: str, *, lock: bool = False) -> Voucher | None:
    """The voucher with a (read_code-normalised) code; lock=True takes its row lock."""
    stmt = select(Voucher).where(Voucher.code == code)
    if lock:
        stmt = stmt.with_for_update()
    return await db.scalar(stmt)


async def get_voucher(db: AsyncSession, voucher_id: int, *, lock: bool = False) -> Voucher | None:
    """A voucher by id; lock=True takes its row lock."""
    stmt = select(Voucher).where(Voucher.id == voucher_id)
    if lock:
        stmt = stmt.with_for_update()
    return await db.scalar(stmt)


async def _bought_of_kind(db: AsyncSession, user_id: int, kind: str) -> list[tuple[Voucher, Shop]]:
    """A user's vouchers or donation pledges (one kind) with their shop, newest first."""
    rows = await db.execute(
        select(Voucher, Shop)
        .join(Shop, Shop.id == Voucher.shop_id)
        .where(Voucher.buyer_id == user_id, Voucher.kind == kind)
        .order_by(Voucher.created_at.desc(), Voucher.id.desc())
    )
    return [(voucher, shop) for voucher, shop in rows]


async def vouchers_of(db: AsyncSession, user_id: int) -> list[tuple[Voucher, Shop, int]]:
    """A user's vouchers (not donations) with shop and balance, newest first."""
    bought = await _bought_of_kind(db, user_id, VOUCHER)
    return [(v, s, await balance(db, v.id)) for v, s in bought]


async def pledges_of(db: AsyncSession, user_id: int) -> list[tuple[Voucher, Shop]]:
    """A user's donation pledges (paid or not; their code is the payment reference) with
    their shop, newest first."""
    return await _bought_of_kind(db, user_id, DONATION)


# --- changes ------------------------------------------------------------------------------


def _entry(voucher: Voucher, kind: str, amount: int, **more: Any) -> LedgerEntry:
    return LedgerEntry(
        voucher_id=voucher.id, shop_id=voucher.shop_id, kind=kind, amount_cents=amount, **more
    )


async def reserve(
    db: AsyncSession,
    shop: Shop,
    buyer_id: int | None,
    cents: int,
    *,
    kind: str = VOUCHER,
    payment: str = IN_SHOP,
    reservation_days: int = 7,
    now: datetime | None = None,
) -> Voucher:
    """Create a reserved voucher (issue entry) or donation pledge, to be paid in time."""
    if cents <= 0:
        raise ValueError("amount must be positive")
    now = now or utcnow()
    while True:
        code = new_code()
        if await by_code(db, code) is None:
            break
    voucher = Voucher(
        code=code,
        kind=kind,
        shop_id=shop.id,
        buyer_id=buyer_id,
        face_cents=cents,
        state=RESERVED,
        payment=payment,
        created_at=now,
        reserved_until=now + timedelta(days=reservation_days),
    )
    db.add(voucher)
    await db.flush()
    if kind == VOUCHER:
        db.add(_entry(voucher, ISSUE, cents, actor_id=buyer_id, created_at=now))
        await db.flush()
    return voucher


async def mark_paid(
    db: AsyncSession,
    voucher: Voucher,
    tz: ZoneInfo,
    *,
    actor_id: int | None = None,
    charge_id: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Record the payment of a (row-locked) reserved or lapsed voucher; False if paid already.

    A payment that arrives after the reservation lapsed still counts (the money is there):
    the voucher gets its value back.
    """
    if voucher.state not in (RESERVED, LAPSED):
        return False
    if charge_id and await db.scalar(
        select(LedgerEntry.id).where(LedgerEntry.charge_id == charge_id)
    ):
        return False
    now = now or utcnow()
    if voucher.state == LAPSED and voucher.kind == VOUCHER:
        db.add(_entry(voucher, ISSUE, voucher.face_cents, actor_id=actor_id, created_at=now))
    db.add(
        _entry(
            voucher,
            PAYMENT,
            0,
            paid_cents=voucher.face_cents,
            charge_id=charge_id or None,
            actor_id=actor_id,
            created_at=now,
        )
    )
    voucher.state = ACTIVE
    voucher.paid_at = now
    if voucher.kind == VOUCHER:
        voucher.expires_at = expiry_for(now, tz)
    await db.flush()
    return True


class Refused(Exception):
    """A redemption that is not allowed; reason is a message key, values fill it."""

    def __init__(self, reason: str, **values: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


@dataclass(frozen=True)
class Redemption:
    """The outcome of a redemption."""

    voucher: Voucher
    taken: int
    rest: int


async def redeemable(
    db: AsyncSession, voucher: Voucher, shop_keys: list[str], now: datetime | None = None
) -> int:
    """The balance one of the shops may take from the voucher; Refused if it may take nothing."""
    now = now or utcnow()
    shop = await db.get(Shop, voucher.shop_id)
    if voucher.kind == DONATION:
        raise Refused("vouchers.redeem.donation")
    if shop is None or shop.key not in shop_keys:
        raise Refused("vouchers.redeem.other_shop")
    if voucher.state == RESERVED:
        raise Refused("vouchers.redeem.reserved")
    if voucher.state == LAPSED:
        raise Refused("vouchers.redeem.lapsed")
    if voucher.state == EXPIRED or (voucher.expires_at and voucher.expires_at <= now):
        raise Refused("vouchers.redeem.expired")
    return await balance(db, voucher.id)


async def redeem(
    db: AsyncSession,
    code: str,
    cents: int,
    shop_keys: list[str],
    *,
    actor_id: int | None = None,
    now: datetime | None = None,
) -> Redemption:
    """Take cents from a voucher of one of the shops; Refused (nothing changed) if not allowed."""
    if cents <= 0:
        raise Refused("vouchers.amount.positive")
    now = now or utcnow()
    voucher = await by_code(db, code, lock=True)
    if voucher is None:
        raise Refused("vouchers.unknown_code")
    available = await redeemable(db, voucher, shop_keys, now)
    if cents > available:
        raise Refused("vouchers.redeem.too_much", balance=available)
    db.add(_entry(voucher, REDEMPTION, -cents, actor_id=actor_id, created_at=now))
    await db.flush()
    return Redemption(voucher, cents, available - cents)


async def lapse_due(db: AsyncSession, now: datetime | None = None) -> list[Voucher]:
    """Reservations not paid in time lapse (a lapse entry takes their value back)."""
    now = now or utcnow()
    ids = list(
        await db.scalars(
            select(Voucher.id).where(Voucher.state == RESERVED, Voucher.reserved_until <= now)
        )
    )
    lapsed = []
    for voucher_id in ids:
        voucher = await get_voucher(db, voucher_id, lock=True)
        if voucher is None or voucher.state != RESERVED:
            continue
        rest = await balance(db, voucher.id)
        if rest:
            db.add(_entry(voucher, LAPSE, -rest, created_at=now))
        voucher.state = LAPSED
        lapsed.append(voucher)
    await db.flush()
    return lapsed


async def expire_due(db: AsyncSession, now: datetime | None = None) -> list[Voucher]:
    """Active vouchers past their expiry expire (an expiry entry takes the rest)."""
    now = now or utcnow()
    ids = list(
        await db.scalars(
            select(Voucher.id).where(
                Voucher.state == ACTIVE,
                Voucher.kind == VOUCHER,
                Voucher.expires_at.is_not(None),
                Voucher.expires_at <= now,
            )
        )
    )
    expired = []
    for voucher_id in ids:
        voucher = await get_voucher(db, voucher_id, lock=True)
        if voucher is None or voucher.state != ACTIVE:
            continue
        rest = await balance(db, voucher.id)
        if rest:
            db.add(_entry(voucher, EXPIRY, -rest, created_at=now))
        voucher.state = EXPIRED
        expired.append(voucher)
    await db.flush()
    return expired


# --- guessing -----------------------------------------------------------------------------


async def wrong_codes_since(db: AsyncSession, user_id: int, since: datetime) -> int:
    """How many unknown codes a user tried since a time."""
    count = await db.scalar(
        select(func.count())
        .select_from(WrongCode)
        .where(WrongCode.user_id == user_id, WrongCode.created_at >= since)
    )
    return int(count or 0)


async def record_wrong_code(db: AsyncSession, user_id: int, now: datetime | None = None) -> None:
    """Note that a user tried a code that matched no voucher."""
    db.add(WrongCode(user_id=user_id, created_at=now or utcnow()))
    await db.flush()


# --- shop view ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sales:
    """A shop's voucher figures for a period, in cents."""

    sold: int
    redeemed: int
    outstanding: int
    donations: int
    count: int


async def sales(db: AsyncSession, shop_id: int, since: datetime | None = None) -> Sales:
    """Vouchers sold (paid), redeemed, donations since a time; outstanding = active balances."""
    since = since or datetime(1970, 1, 1, tzinfo=UTC)
    rows = await db.execute(
        select(Voucher.kind, LedgerEntry.kind, LedgerEntry.amount_cents, LedgerEntry.paid_cents)
        .join(Voucher, Voucher.id == LedgerEntry.voucher_id)
        .where(LedgerEntry.shop_id == shop_id, LedgerEntry.created_at >= since)
    )
    sold = redeemed = donations = count = 0
    for voucher_kind, kind, amount, paid in rows:
        if kind == PAYMENT and voucher_kind == DONATION:
            donations += paid
        elif kind == PAYMENT:
            sold += paid
            count += 1
        elif kind == REDEMPTION:
            redeemed -= amount
    outstanding = await db.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
        .join(Voucher, Voucher.id == LedgerEntry.voucher_id)
        .where(Voucher.shop_id == shop_id, Voucher.state == ACTIVE)
    )
    return Sales(sold, redeemed, int(outstanding or 0), donations, count)


async def ledger_of(db: AsyncSession, shop_id: int) -> list[tuple[LedgerEntry, Voucher]]:
    """A shop's ledger, oldest first."""
    rows = await db.execute(
        select(LedgerEntry, Voucher)
        .join(Voucher, Voucher.id == LedgerEntry.voucher_id)
        .where(LedgerEntry.shop_id == shop_id)
        .order_by(LedgerEntry.created_at, LedgerEntry.id)
    )
    return [(entry, voucher) for entry, voucher in rows]


async def _bought_by(db: AsyncSession, user_id: int) -> set[int]:
    """The ids of the vouchers and donations the user bought."""
    return set(await db.scalars(select(Voucher.id).where(Voucher.buyer_id == user_id)))


@exporter("voucher_till_entries")
async def export_till_entries(db: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """The voucher bookings the user made at a shop's till (redemptions, payments confirmed)
    of vouchers others bought; the voucher by its number, not its code (the code belongs to
    its holder). A buyer's own entries (her reservation's issue, her invoice payment) are
    under her voucher in export_vouchers, not till entries."""
    own = await _bought_by(db, user_id)
    entries = await rows_linked_to(db, LedgerEntry.actor_id, user_id)
    return [
        {
            "id": e.id,
            "voucher_id": e.voucher_id,
            "shop_id": e.shop_id,
            "kind": e.kind,
            "amount_cents": e.amount_cents,
            "created_at": e.created_at.isoformat(),
        }
        for e in entries
        if e.voucher_id not in own
    ]


async def _own_entries(db: AsyncSession, voucher: Voucher, user_id: int) -> list[dict[str, Any]]:
    """The ledger entries the buyer made on her own voucher (issue, invoice payment)."""
    entries = await db.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.voucher_id == voucher.id, LedgerEntry.actor_id == user_id)
        .order_by(LedgerEntry.id)
    )
    return [
        {
            "id": e.id,
            "kind": e.kind,
            "amount_cents": e.amount_cents,
            "paid_cents": e.paid_cents,
            "created_at": e.created_at.isoformat(),
        }
        for e in entries
    ]


async def _shop_name(db: AsyncSession, shop_id: int) -> str | None:
    """The name of a voucher's shop (None if the shop is gone)."""
    shop = await db.get(Shop, shop_id)
    return shop.name if shop is not None else None


@exporter("vouchers")
async def export_vouchers(db: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """The vouchers and donations a user bought, each with the ledger entries she made on it."""
    found = await db.scalars(
        select(Voucher).where(Voucher.buyer_id == user_id).order_by(Voucher.id)
    )
    return [
        {
            "code": format_code(v.code),
            "kind": v.kind,
            "shop_id": v.shop_id,
            "shop": await _shop_name(db, v.shop_id),
            "face_cents": v.face_cents,
            "balance_cents": await balance(db, v.id),
            "state": v.state,
            "created_at": v.created_at.isoformat(),
            "expires_at": v.expires_at.isoformat() if v.expires_at else None,
            "entries": await _own_entries(db, v, user_id),
        }
        for v in found
    ]


DEMO_CODE = "K7QF2M9X"  # the code of the examples in the docs and the NLU data
DEMO_TZ = ZoneInfo("Europe/Berlin")


@seeder("vouchers", order=30)
async def seed_vouchers(db: AsyncSession, _read: Any) -> dict[str, int]:
    """The docs' example voucher K7QF-2M9X: 25 € at Café Rosa, 12,50 € spent (once only)."""
    shop = await shop_by_key(db, "cafe-rosa")
    if shop is None:
        return {"vouchers": 0}
    if await by_code(db, DEMO_CODE) is None:
        voucher = Voucher(
            code=DEMO_CODE,
            kind=VOUCHER,
            shop_id=shop.id,
            buyer_id=None,
            face_cents=2500,
            state=RESERVED,
            payment=IN_SHOP,
            reserved_until=utcnow() + timedelta(days=7),
        )
        db.add(voucher)
        await db.flush()
        db.add(_entry(voucher, ISSUE, 2500))
        await mark_paid(db, voucher, DEMO_TZ)
        db.add(_entry(voucher, REDEMPTION, -1250))
        await db.flush()
    return {"vouchers": 1}
