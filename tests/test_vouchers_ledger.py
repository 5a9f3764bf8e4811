"""Voucher codes, the ledger's invariants (property tests) and concurrent redemptions."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import migrate, vouchers
from storage.db import create_engine, session_factory
from storage.shops import upsert_shop
from storage.vouchers import ALPHABET, CodeError, LedgerEntry, Refused, Voucher

BERLIN = ZoneInfo("Europe/Berlin")
ROOT = Path(__file__).resolve().parent.parent
_shop_numbers = itertools.count(1)

# --- codes ---------------------------------------------------------------------------------


def test_new_codes_use_the_alphabet_and_pass_their_check() -> None:
    assert len(ALPHABET) == 30 and not set("ILOU01") & set(ALPHABET)
    codes = {vouchers.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 8 and set(c) <= set(ALPHABET) and vouchers.is_valid(c) for c in codes)


def test_the_docs_example_is_a_valid_code() -> None:
    assert vouchers.read_code("K7QF-2M9X") == "K7QF2M9X"


@given(st.text(alphabet=ALPHABET, min_size=7, max_size=7), st.integers(0, 7), st.data())
def test_every_single_wrong_character_is_recognised(body: str, position: int, data) -> None:
    code = body + vouchers.check_char(body)
    wrong = data.draw(st.sampled_from([c for c in ALPHABET if c != code[position]]))
    typo = code[:position] + wrong + code[position + 1 :]
    assert vouchers.is_valid(code) and not vouchers.is_valid(typo)
    with pytest.raises(CodeError, match="check"):
        vouchers.read_code(typo)


@given(st.text(alphabet=ALPHABET, min_size=7, max_size=7))
def test_codes_are_read_in_any_case_with_or_without_dash(body: str) -> None:
    code = body + vouchers.check_char(body)
    for typed in (code, code.lower(), vouchers.format_code(code), f" {code[:4]} {code[4:]} "):
        assert vouchers.read_code(typed) == code


@pytest.mark.parametrize(
    ("typed", "code"),
    [("K7OF-2M9X", "K7QF2M9X"), ("k70f2m9x", "K7QF2M9X"), ("KIQF-2M9X", "K7QF2M9X")],
)
def test_look_alike_characters_are_corrected_by_the_check_character(typed, code) -> None:
    assert vouchers.read_code(typed) == code


@pytest.mark.parametrize("typed", ["K7QF-2M9", "K7QF-2M9XX", "K7QF-2M9!", "", "12,50"])
def test_not_a_code(typed: str) -> None:
    with pytest.raises(CodeError, match="format"):
        vouchers.read_code(typed)


@pytest.mark.parametrize(
    ("paid_utc", "expires_local"),
    [
        (datetime(2026, 12, 31, 22, 30, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=BERLIN)),
        (datetime(2025, 12, 31, 23, 30, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=BERLIN)),
        (datetime(2026, 6, 1, 12, 0, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=BERLIN)),
        (datetime(2025, 6, 1, 12, 0, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=BERLIN)),
    ],
)
def test_expiry_is_the_end_of_the_third_year_after_purchase(paid_utc, expires_local) -> None:
    assert vouchers.expiry_for(paid_utc, BERLIN) == expires_local


# --- the ledger ------------------------------------------------------------------------------


async def new_voucher(
    sessions: async_sessionmaker[AsyncSession], cents: int = 1000, *, paid: bool = True
) -> tuple[str, str]:
    """A shop of its own and a voucher of it; returns (shop key, code)."""
    number = next(_shop_numbers)
    async with sessions() as db, db.begin():
        shop = await upsert_shop(
            db,
            {"key": f"shop-{number}", "name": f"Laden {number}", "category": "other",
             "sells_vouchers": True},
        )
        voucher = await vouchers.reserve(db, shop, None, cents)
        if paid:
            await vouchers.mark_paid(db, voucher, BERLIN)
        return shop.key, voucher.code


@pytest.fixture(scope="module")
def ledger_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ledger") / "citybot.db"
    url = f"sqlite+aiosqlite:///{path}"

    async def prepare() -> None:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        await engine.dispose()

    asyncio.run(prepare())
    return url


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("redeem"), st.integers(-500, 3000)),
        st.tuples(st.just("pay"), st.just(0)),
        st.tuples(st.just("lapse"), st.just(0)),
        st.tuples(st.just("expire"), st.just(0)),
    ),
    max_size=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(face=st.integers(1, 2000), operations=OPERATIONS)
def test_no_sequence_of_operations_overdraws_or_changes_value_without_an_entry(
    ledger_db: str, face: int, operations: list[tuple[str, int]]
) -> None:
    asyncio.run(_run_operations(ledger_db, face, operations))


async def _run_operations(url: str, face: int, operations: list[tuple[str, int]]) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        key, code = await new_voucher(sessions, face, paid=False)
        for name, cents in operations:
            async with sessions() as db, db.begin():
                voucher = await vouchers.by_code(db, code, lock=True)
                assert voucher is not None
                entries_before = await _entries(db, voucher.id)
                before = await vouchers.balance(db, voucher.id)
                if name == "redeem":
                    try:
                        await vouchers.redeem(db, code, cents, [key])
                    except Refused:
                        assert await _entries(db, voucher.id) == entries_before
                elif name == "pay":
                    await vouchers.mark_paid(db, voucher, BERLIN)
                elif name == "lapse":
                    await vouchers.lapse_due(db, voucher.reserved_until)
                elif voucher.expires_at is not None:
                    await vouchers.expire_due(db, voucher.expires_at)
                after = await vouchers.balance(db, voucher.id)
                entries_after = await _entries(db, voucher.id)
                assert 0 <= after <= face
                if after != before:
                    assert entries_after > entries_before, "a value change without an entry"
                assert {
                    "reserved": after == face,
                    "active": True,
                    "lapsed": after == 0,
                    "expired": after == 0,
                }[voucher.state]
    finally:
        await engine.dispose()


async def _entries(db: AsyncSession, voucher_id: int) -> int:
    return await db.scalar(
        select(func.count()).select_from(LedgerEntry).where(LedgerEntry.voucher_id == voucher_id)
    )


def test_no_balance_is_stored_anywhere() -> None:
    columns = set(Voucher.__table__.columns.keys())
    assert not {c for c in columns if "balance" in c or "rest" in c}


# --- concurrency -----------------------------------------------------------------------------


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


async def test_concurrent_redemptions_from_separate_sessions_never_overdraw(
    engine: AsyncEngine,
) -> None:
    sessions = session_factory(engine)
    key, code = await new_voucher(sessions, 1000)

    async def attempt() -> bool:
        async with sessions() as db:
            try:
                async with db.begin():
                    await vouchers.redeem(db, code, 300, [key])
                    await asyncio.sleep(0.01)  # hold the lock a moment: others must wait
                return True
            except Refused:
                return False

    results = await asyncio.gather(*(attempt() for _ in range(8)))
    assert sum(results) == 3
    async with sessions() as db:
        voucher = await vouchers.by_code(db, code)
        assert voucher is not None
        assert await vouchers.balance(db, voucher.id) == 100


REDEEM_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    import storage.models  # noqa: F401 (every table)
    from storage import vouchers
    from storage.db import create_engine, session_factory

    async def main(url, key, code, ready, go):
        engine = create_engine(url)
        sessions = session_factory(engine)
        Path(ready).touch()
        while not Path(go).exists():
            time.sleep(0.01)
        taken = 0
        for _ in range(10):
            async with sessions() as db:
                try:
                    async with db.begin():
                        await vouchers.redeem(db, code, 100, [key])
                    taken += 1
                except vouchers.Refused:
                    pass
        await engine.dispose()
        print(taken)

    asyncio.run(main(*sys.argv[1:]))
    """
)


async def test_two_processes_redeeming_the_same_voucher_never_overdraw(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'citybot.db'}"
    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    key, code = await new_voucher(sessions, 1000)
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", REDEEM_SCRIPT, url, key, code, str(tmp_path / f"ready{n}"),
            str(go), stdout=asyncio.subprocess.PIPE, env=env,
        )
        for n in range(2)
    ]
    async with asyncio.timeout(60):  # both processes are up, then they start together
        while not all((tmp_path / f"ready{n}").exists() for n in range(2)):
            await asyncio.sleep(0.02)
    go.touch()
    outputs = [await asyncio.wait_for(p.communicate(), 60) for p in processes]
    taken = [int(out.decode().strip()) for out, _err in outputs]
    assert all(p.returncode == 0 for p in processes)
    assert sum(taken) == 10, taken
    async with sessions() as db:
        voucher = await vouchers.by_code(db, code)
        assert voucher is not None
        assert await vouchers.balance(db, voucher.id) == 0
    await engine.dispose()
