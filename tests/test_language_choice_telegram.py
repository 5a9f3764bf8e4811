"""Telegram (fake Bot API): the app's language is kept; without one the messages decide it."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import App
from bot.i18n import translator
from tests.fake_bot_api import FakeBotAPI
from tests.test_language_choice import ENGLISH
from tests.test_telegram_e2e import Telegram, new_user

de, en = translator("de"), translator("en")


@pytest.fixture
async def tg(app: App, fake: FakeBotAPI) -> Any:
    harness = Telegram(app, fake, "polling")
    await harness.start()
    yield harness
    await harness.stop()


def labels(sent: list[Any]) -> list[str]:
    return [label for s in sent for label, _ in s.buttons]


async def test_a_user_with_language_code_keeps_the_platform_language(tg: Telegram) -> None:
    anna = new_user("de", "Anna")
    sent = await tg.say(anna, "any nursing jobs?")
    assert "1 Bewerben" in labels(sent)
    for text in ENGLISH:
        sent = await tg.say(anna, text)
        assert en("language.offer") not in [s.text for s in sent]


async def test_a_user_without_language_code_is_answered_in_the_language_written(
    tg: Telegram,
) -> None:
    ben = new_user(None, "Ben")  # type: ignore[arg-type]  # Telegram omits it sometimes
    sent = await tg.say(ben, "any nursing jobs?")
    assert "1 Apply" in labels(sent)


async def test_the_offer_button_switches_on_telegram(tg: Telegram) -> None:
    cleo = new_user("fr", "Cleo")  # a language citybot does not speak: the messages decide
    await tg.say(cleo, "ich suche arbeit in der pflege")
    for text in ENGLISH[:3]:
        sent = await tg.say(cleo, text)
    [offer] = [s for s in sent if s.text == en("language.offer")]
    switched = await tg.press(cleo, offer, en("language.offer.switch"))
    assert en("language.set") in [s.text for s in switched]
    sent = await tg.say(cleo, "ich suche arbeit in der pflege")
    assert "1 Apply" in labels(sent)
