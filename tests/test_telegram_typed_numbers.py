"""A typed number on Telegram, whose keyboards show no numbers: in a step with suggested
answers it is the answer ("3" is 3 €), not the third suggestion."""

from __future__ import annotations

from typing import Any

from tests.conftest import Chat
from tests.test_telegram_e2e import new_user, tg

__all__ = ["tg"]  # the fixture, polling and webhook


async def test_typed_number_under_amount_suggestions_is_an_amount_on_telegram(tg: Any) -> None:
    anna = new_user("de")
    asked = await tg.say(anna, "ich möchte einen gutschein für café rosa")
    assert "50,00 €" in dict(asked[-1].buttons), asked[-1].buttons  # the third suggestion
    refused = await tg.say(anna, "3")
    # below the shop's smallest voucher: said, and no summary of a 50 € voucher
    assert "zwischen 5,00 € und 250,00 €" in refused[-1].text
    assert "Bestätigen" not in dict(refused[-1].buttons)
    summary = await tg.say(anna, "20")
    assert "20,00 €" in summary[-1].text and "Bestätigen" in dict(summary[-1].buttons)


async def test_typed_number_still_presses_the_numbered_suggestion_in_the_console(
    chat: Chat,
) -> None:
    await chat.say("ich möchte einen gutschein für café rosa")
    assert chat.labels()[:3] == ["10,00 €", "25,00 €", "50,00 €"]
    await chat.say("3")  # the console shows "[3] 50,00 €"
    assert "50,00 €" in chat.last().text and "Bestätigen" in chat.labels()
