"""Shop owners' everyday words, found by testers (round 5): 'mein laden' is /myshop, 'meine
öffnungszeiten ändern' the hours form, 'wie viele gutscheine habe ich verkauft' /sales, and
news said as a plain sentence is the update's text, shown before it is sent."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import handlers.shop_owners as owners
from bot.app import App
from tests.conftest import Chat
from tests.personas import role_chat


@pytest.fixture
def owner(app: App, chat_factory: Callable[..., Chat]) -> Callable[..., object]:
    """The owner of Café Rosa (claimed with an invite code), in a language."""

    async def make(language: str = "de", user: str = "rosa") -> Chat:
        return await role_chat(app, chat_factory, user, language, "shop_owner", "cafe-rosa")

    return make


def turn_text(chat: Chat) -> str:
    """All replies of the last turn, one after the other."""
    return "\n".join(reply.text for reply in chat.turns[-1])


# --- 1. the owner's own shop, hours and sales in their words -------------------------------


@pytest.mark.parametrize(
    ("language", "said", "card"),
    [("de", "mein laden", "Café Rosa – so sieht deine Karte aus"),
     ("en", "my shop", "Café Rosa – your card")],
)
async def test_my_shop_in_words_is_the_owners_card(owner, language, said, card) -> None:
    rosa = await owner(language)
    await rosa.say(said)
    assert rosa.last().text.startswith(card), rosa.text()


async def test_my_shop_from_a_citizen_is_still_the_shop_list(chat: Chat) -> None:
    await chat.say("mein laden")
    assert "Café Rosa – so sieht deine Karte aus" not in chat.text()


async def test_a_named_shop_is_its_card_also_for_an_owner(owner) -> None:
    rosa = await owner()
    await rosa.say("hat die bäckerei müller heute offen")
    assert rosa.last().text.startswith("Bäckerei Müller – Bäckerei"), rosa.text()


async def test_change_the_opening_hours_in_words_opens_the_hours_form(owner) -> None:
    rosa = await owner()
    await rosa.say("öffnungszeiten ändern")
    assert rosa.last().text.startswith("Café Rosa: Öffnungszeiten ändern"), rosa.text()
    assert rosa.last().text.endswith("Für welchen Tag?")
    await rosa.press("Samstag")
    await rosa.say("9-15")
    assert "Samstag: 09:00-15:00" in rosa.last().text


@pytest.mark.parametrize(
    ("command", "question"),
    [("/myshop öffnungszeiten", "Für welchen Tag?"),
     ("/myshop hinweis", "Welcher Hinweis soll auf der Karte stehen"),
     ("/myshop description", "Wie soll die neue Beschreibung lauten?")],
)
async def test_myshop_with_a_part_starts_that_edit(owner, command, question) -> None:
    rosa = await owner()
    await rosa.say(command)
    assert rosa.last().text.startswith("Café Rosa: "), rosa.text()
    assert question in rosa.last().text, rosa.text()


@pytest.mark.parametrize(
    ("language", "said", "sales"),
    [("de", "wie viele gutscheine habe ich verkauft", "Gutscheine von Café Rosa"),
     ("en", "how many vouchers did we sell this month", "Vouchers of Café Rosa")],
)
async def test_how_many_vouchers_sold_is_the_sales_summary_for_an_owner(
    owner, language, said, sales
) -> None:
    rosa = await owner(language)
    await rosa.say(said)
    assert rosa.last().text.startswith(sales), rosa.text()


async def test_a_citizens_balance_question_is_unchanged_for_an_owner(owner) -> None:
    rosa = await owner()
    await rosa.say("wie viel ist noch auf K7QF-2M9X")
    assert "12,50 €" in rosa.last().text and "Gutscheine von" not in rosa.text()


# --- 1. news said as a sentence is the update's text ---------------------------------------


async def test_news_said_plainly_is_prefilled_and_shown_before_sending(owner) -> None:
    rosa = await owner()
    await rosa.say("wir haben samstags jetzt bis 15 uhr offen")
    assert "„wir haben samstags jetzt bis 15 uhr offen“" in turn_text(rosa), rosa.text()
    assert "Foto" in rosa.last().text, "the text is not asked again"
    await rosa.say("ohne")
    assert "📣 Café Rosa: wir haben samstags jetzt bis 15 uhr offen" in rosa.last().text
    await rosa.press("Bestätigen")
    assert rosa.last().text.startswith("Gesendet:") and "heute 1 von 3" in rosa.last().text


@pytest.mark.parametrize(
    ("said", "text"),
    [
        ("wir haben samstags jetzt bis 15 uhr offen", "wir haben samstags jetzt bis 15 uhr offen"),
        ("heute wegen krankheit geschlossen", "heute wegen krankheit geschlossen"),
        ("an alle: ab morgen liefern wir auch", "ab morgen liefern wir auch"),
        ("info an alle: neue öffnungszeiten ab montag", "neue öffnungszeiten ab montag"),
        ("nachricht an alle follower senden", ""),
        ("ich möchte meinen kunden etwas mitteilen", ""),
        ("I want to post an update", ""),
    ],
)
def test_the_update_text_a_message_gives(said: str, text: str) -> None:
    assert owners.update_text_of(said) == text
