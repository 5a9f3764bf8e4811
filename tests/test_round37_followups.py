"""Round 37 follow-ups: a shop card is "in view" only while it is the latest answer, and a
parent evening's bare small duration ("2", "1,5") is read as hours."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.evenings_staff import _duration_text
from storage.base import utcnow
from tests.conftest import Chat

# --- 1. a stale shop card is not "da" ----------------------------------------------------------


@pytest.mark.parametrize("between", ["ich suche arbeit als koch", "welche elternabende gibt es"])
async def test_a_voucher_there_after_another_list_is_not_for_the_old_card(
    chat: Chat, between: str
) -> None:
    await chat.say("hat die bäckerei müller heute offen")
    assert chat.last().text.startswith("Bäckerei Müller – Bäckerei"), chat.text()
    await chat.say(between)
    await chat.say("kann ich da einen gutschein kaufen?")
    assert "Über welchen Betrag" not in chat.last().text, chat.text()
    assert "Bäckerei Müller" not in chat.last().text, chat.text()


async def test_a_question_after_another_list_is_not_about_the_old_card(chat: Chat) -> None:
    await chat.say("hat die bäckerei müller heute offen")
    await chat.say("ich suche arbeit als koch")
    await chat.say("liefern die auch?")
    assert not chat.last().text.startswith("Bäckerei Müller – Bäckerei"), chat.text()


async def test_right_after_the_card_da_is_still_that_shop(chat: Chat) -> None:
    await chat.say("trattoria da enzo")
    await chat.say("kann ich da einen gutschein kaufen?")
    assert "Über welchen Betrag" in chat.last().text, chat.text()
    await chat.say("25")
    assert "Trattoria Da Enzo" in chat.last().text, chat.text()


# --- 2. a bare small duration is hours ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "typed"),
    [("2", "120"), ("1,5", "90"), ("1.5", "90"), ("zwei", "120"), ("8", "480"),
     ("90", "90"), ("15", "15"), ("5 min", "5"), ("2 Stunden", "120"), ("0,5", "0,5")],
)
def test_a_bare_small_duration_is_hours(text: str, typed: str) -> None:
    assert _duration_text(text) == typed


async def test_the_duration_step_reads_2_as_two_hours(staff) -> None:
    await staff.say("/newevening")
    await staff.say("Elternabend 2. Klassen")
    await staff.say("2a")
    await staff.say((utcnow() + timedelta(days=20)).strftime("%d.%m.%Y") + " 19:00")
    await staff.say("2")
    assert staff.last().text == "Wie viele Plätze gibt es?", staff.text()
    await staff.say("25")
    await staff.say("https://meet.example.org/park-2")
    assert "120 Minuten" in staff.last().text, staff.text()
    assert "2 Minuten" not in staff.last().text.replace("120 Minuten", ""), staff.text()
