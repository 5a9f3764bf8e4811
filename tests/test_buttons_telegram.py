"""On Telegram every inline button carries signed callback data; forged data changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.buttons import verify
from bot.keys import load_secret
from storage.users import Identity
from tests.fake_bot_api import FakeBotAPI
from tests.test_telegram_e2e import Telegram, new_user


@pytest.fixture(params=["polling", "webhook"])
async def tg(request: pytest.FixtureRequest, app: App) -> AsyncIterator[Telegram]:
    """citybot's Telegram transport on the fake Bot API (as in test_telegram_e2e)."""
    server = FakeBotAPI()
    await server.start()
    harness = Telegram(app, server, request.param)
    await harness.start()
    yield harness
    await harness.stop()
    await server.stop()


async def _telegram_users(tg: Telegram) -> int:
    async with tg.app.sessions() as db:
        query = select(func.count()).select_from(Identity).where(Identity.platform == "telegram")
        return await db.scalar(query)


async def test_buttons_are_signed_and_a_forged_delete_erases_nothing(tg: Telegram) -> None:
    anna = new_user("en")
    question = (await tg.say(anna, "/deletedata"))[-1]
    secret = load_secret(tg.app.config)
    offered = dict(question.buttons)
    assert offered and all(len(data.encode()) <= 64 for data in offered.values())
    payloads = {verify(secret, str(question.chat_id), data) for data in offered.values()}
    assert payloads == {"account.delete_confirm", "account.keep"}

    other = (await tg.say(anna, "/help"))[-1]
    forged = await tg.deliver(tg.fake.callback_update(anna, other, "account.delete_confirm"))
    assert "no longer valid" in forged[-1].text
    assert await _telegram_users(tg) == 1, "a forged button erased the account"

    done = await tg.press(anna, question, "Yes, delete everything")
    assert "deleted" in done[-1].text.lower()
    assert await _telegram_users(tg) == 0
