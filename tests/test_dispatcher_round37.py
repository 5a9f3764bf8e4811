"""Round 37 of the user tests: what the dispatcher makes of natural replies under an answer."""

from __future__ import annotations

from bot.i18n import translator
from tests.conftest import Chat, page_items

INTERNAL_ERROR = translator("de")("error.internal")


async def test_a_superscript_digit_before_a_label_is_no_item_number(chat: Chat) -> None:
    page = (await chat.say("pflege jobs"))[-1]
    assert page_items(page)
    await chat.say("² bewerben")  # str.isdigit() holds for "²", int() does not take it
    assert INTERNAL_ERROR not in chat.text()
