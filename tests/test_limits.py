"""Guessing and flooding: wrong invite codes are limited per user, floods get one notice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App, create_app
from bot.i18n import translator
from bot.ratelimit import AttemptLimiter, FloodGuard
from storage.users import InviteCode, create_invite
from tests.conftest import make_config
from tests.personas import event

EN = translator("en")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_attempt_limiter_window():
    clock = Clock()
    limiter = AttemptLimiter(3, 600, clock)
    for _ in range(3):
        assert not limiter.blocked("u")
        limiter.failed("u")
    assert limiter.blocked("u") and not limiter.blocked("v"), "per key"
    clock.now += 599
    assert limiter.blocked("u")
    clock.now += 2
    assert not limiter.blocked("u"), "the window slid past the failures"


async def _claim(app: App, user: str, code: str, platform: str = "console") -> str:
    incoming = event(user, platform=platform, kind="command", text=f"/claim {code}")
    replies = await app.dispatcher.handle(incoming)
    return replies[0].text


async def test_wrong_invite_codes_are_limited_and_logged_without_the_code(app, caplog):
    async with app.sessions() as db, db.begin():
        valid = (await create_invite(db, "employer", "Pflegedienst Sonnenschein")).code
    caplog.set_level(logging.INFO)
    wrong = [f"ZZZZ-ZZ{a}{b}" for a in "23" for b in "456"][:5]
    for code in wrong:
        assert await _claim(app, "mallory", code) == EN("claim.unknown")
    refused = await _claim(app, "mallory", valid)
    assert refused == EN("limits.guesses", minutes=10), "even a valid code waits"
    async with app.sessions() as db:
        invite = await db.scalar(select(InviteCode).where(InviteCode.code == valid))
        assert invite.claimed_at is None, "the refused attempt used nothing up"
    assert "wrong code kind=claim" in caplog.text
    assert not any(code in caplog.text for code in [*wrong, valid]), "codes never logged"
    assert "Pflegedienst" in await _claim(app, "alice", valid), "other users are not affected"


async def test_erasing_the_account_does_not_reset_the_guess_limit(app):
    for n in range(5):
        await _claim(app, "mallory", f"ZZZZ-ZZZ{n + 2}")
    await app.dispatcher.handle(event("mallory", kind="command", text="/deletedata"))
    await app.dispatcher.handle(event("mallory", text="1"))  # yes, delete everything
    assert await _claim(app, "mallory", "ZZZZ-ZZZ9") == EN("limits.guesses", minutes=10)


@pytest.fixture
async def strict_app(tmp_path: Path, nlu_model) -> AsyncIterator[App]:
    """citybot allowing 5 messages per user and minute."""
    config = make_config(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'strict.db'}",
        security={"messages_per_minute": 5},
    )
    application = await create_app(config, nlu=nlu_model)
    yield application
    await application.close()


async def test_a_flooding_user_gets_one_notice_and_others_are_not_affected(strict_app):
    answered, notices, silent = 0, 0, 0
    for _ in range(20):
        replies = await strict_app.dispatcher.handle(
            event("flood", platform="telegram", text="/help")
        )
        texts = [r.text for r in replies]
        if texts == [EN("limits.flood")]:
            notices += 1
        elif texts:
            answered += 1
        else:
            silent += 1
    assert (answered, notices, silent) == (5, 1, 14)
    calm = await strict_app.dispatcher.handle(event("calm", platform="telegram", text="/help"))
    assert calm and calm[0].text != EN("limits.flood")
    console = [await strict_app.dispatcher.handle(event("local", text="/help")) for _ in range(8)]
    assert all(r and r[0].text != EN("limits.flood") for r in console), "the console is exempt"


async def test_the_flood_guard_lets_messages_through_again_after_a_pause():
    guard = FloodGuard(2, 0.2)
    assert [await guard.check("u") for _ in range(4)] == ["ok", "ok", "notice", "drop"]
    async with asyncio.timeout(5):
        while (verdict := await guard.check("u")) != "ok":
            assert verdict == "drop", "one notice per flood"
            await asyncio.sleep(0.02)
    assert [await guard.check("u") for _ in range(2)] == ["notice", "drop"], "a new flood: notice"
