"""One message per answer: list pages (bot/listing.py), their Telegram keyboard, joined replies."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot.console import render
from bot.listing import Item, action_label, item_number, page
from bot.matrix.render import turn
from bot.messages import Attachment, Button, Reply, coalesce
from bot.registry import registry
from bot.telegram.render import keyboard, plan_all
from storage.jobs import JobAlert
from storage.parent_evenings import Registration
from tests.conftest import page_items


def _page() -> Reply:
    items = [
        Item(f"Stelle {n}\nArbeitgeber {n}", [Button("Details", f"d:{n}"), Button("Go", f"a:{n}")])
        for n in (4, 5)
    ]
    return page("Treffer:", items, footer="4–5 von 9", buttons=[Button("Mehr", "m")], first=4)


def test_a_page_numbers_its_items_and_their_buttons_in_one_keyboard():
    reply = _page()
    assert reply.text == (
        "Treffer:\n\n4. Stelle 4\n   Arbeitgeber 4\n\n5. Stelle 5\n   Arbeitgeber 5\n\n4–5 von 9"
    )
    assert [(b.label, b.payload) for b in reply.buttons] == [
        ("4 Details", "d:4"),
        ("4 Go", "a:4"),
        ("5 Details", "d:5"),
        ("5 Go", "a:5"),
        ("Mehr", "m"),
    ]
    assert page_items(reply) == {4: "Stelle 4\nArbeitgeber 4", 5: "Stelle 5\nArbeitgeber 5"}


def test_item_labels_are_told_from_amounts_and_plain_labels():
    assert (
        item_number("12 Zurückziehen") == 12 and action_label("12 Zurückziehen") == "Zurückziehen"
    )
    assert item_number("10 €") is None and item_number("Mehr") is None
    assert action_label("Mehr") == "Mehr"


def test_telegram_gives_each_item_a_row_and_the_page_buttons_after():
    markup = keyboard(_page().buttons)
    assert markup is not None
    rows = [[b["text"] for b in row] for row in markup["inline_keyboard"]]
    assert rows == [["4 Details", "4 Go"], ["5 Details", "5 Go"], ["Mehr"]]
    assert [b["callback_data"] for b in markup["inline_keyboard"][1]] == ["d:5", "a:5"]


def test_single_action_items_share_rows_two_by_two():
    reply = page("", [Item(f"Laden {n}", [Button("Details", f"s:{n}")]) for n in (1, 2, 3)])
    markup = keyboard(reply.buttons)
    assert markup is not None
    assert [[b["text"] for b in row] for row in markup["inline_keyboard"]] == [
        ["1 Details", "2 Details"],
        ["3 Details"],
    ]


def test_a_long_page_is_split_for_telegram_with_the_keyboard_under_the_last_part():
    items = [Item("x" * 900, [Button("Details", f"d:{n}")]) for n in range(1, 10)]
    calls = plan_all([page("Viele:", items)], invoices=False)
    assert len(calls) >= 2 and all(len(call.text) <= 4096 for call in calls)
    assert [b.label for b in calls[-1].buttons] == [f"{n} Details" for n in range(1, 10)]
    assert all(not call.buttons for call in calls[:-1])


def test_a_text_only_reply_joins_the_reply_after_it():
    image = Attachment("qr.png", b"png", "image/png")
    replies = [
        Reply("Gespeichert."),
        Reply("Noch etwas?", [Button("Ja", "y")]),
        Reply("Dein Gutschein:"),
        Reply("", image=image),
        Reply("Danke."),
    ]
    joined = coalesce(replies)
    assert [(r.text, [b.label for b in r.buttons], r.image) for r in joined] == [
        ("Gespeichert.\n\nNoch etwas?", ["Ja"], None),
        ("Dein Gutschein:", [], image),
        ("Danke.", [], None),
    ]
    assert coalesce([Reply("a"), Reply("b")]) == [Reply("a\n\nb")]
    long = Reply("x" * 1100)
    assert coalesce([long, Reply("QR", image=image)]) == [long, Reply("QR", image=image)]


async def test_alerts_are_one_message_and_2_delete_deletes_the_second(app, chat):
    await chat.say("sag mir bescheid wenn es neue pflegejobs gibt")
    await chat.press("Einmal täglich")
    await chat.say("sag mir bescheid wenn es neue jobs gibt")
    await chat.press("IT")
    await chat.say("/alerts")
    [reply] = chat.turns[-1]
    items = page_items(reply)
    assert len(items) == 2 and chat.labels() == ["1 Löschen", "2 Löschen"]
    await chat.press("2 Löschen")
    assert "gelöscht" in chat.last().text
    async with app.sessions() as db:
        left = list(await db.scalars(select(JobAlert)))
    assert len(left) == 1 and left[0].field == "nursing" and "Pflege" in items[1]


async def test_typing_an_action_on_a_page_asks_which_item(chat):
    await chat.say("pflegejobs")
    await chat.say("details")
    assert chat.labels() == ["1 Details", "2 Details", "3 Details"]
    await chat.say("3")
    assert "Arbeitgeber:" in chat.last().text


def test_text_platforms_show_a_list_turn_as_a_line_per_item(tmp_path: Path):
    replies = [_page()]
    shown = render(replies, tmp_path)
    assert shown.endswith("4–5 von 9\n  4 Details · 4 Go\n  5 Details · 5 Go\n  Mehr")
    assert "[1]" not in shown
    ((content, _),) = turn(replies)
    assert content is not None
    assert content["body"].endswith("\n4 Details · 4 Go\n5 Details · 5 Go\nMehr")
    assert "<br>5 Details · 5 Go<br>Mehr</p>" in content["formatted_body"]
    assert "<ol" not in content["formatted_body"]
    # other turns keep their numbered options
    plain = [Reply("Sicher?", [Button("Ja", "y"), Button("Nein", "n")])]
    assert render(plain, tmp_path) == "Sicher?\n  [1] Ja\n  [2] Nein"
    ((content, _),) = turn(plain)
    assert content is not None and content["body"] == "Sicher?\n1. Ja\n2. Nein"


async def test_a_typed_number_on_a_list_page_names_the_item_not_the_option(chat):
    await chat.say("pflegejobs")
    items = page_items(chat.last())
    assert chat.labels()[:4] == ["1 Details", "1 Bewerben", "2 Details", "2 Bewerben"]
    await chat.say("2")  # option 2 would be "1 Bewerben": an application for the first job
    title = items[2].split("\n")[0]
    assert chat.last().text.startswith(title) and "Arbeitgeber:" in chat.last().text
    await chat.say("pflegejobs")
    await chat.say("2 bewerben")
    assert title in chat.text() and "Bewerbung" in chat.text()
    await chat.say("/cancel")
    await chat.say("pflegejobs")
    await chat.say("9")  # no item 9 on the page: not a button, read as a message
    assert "Arbeitgeber:" not in chat.last().text


async def test_a_typed_number_asks_before_an_action_that_cannot_be_undone(app, chat):
    await chat.say("sag mir bescheid wenn es neue pflegejobs gibt")
    await chat.press("Einmal täglich")
    await chat.say("/follow cafe rosa")
    await chat.say("/alerts")
    await chat.say("1")  # the item's only action is Löschen: asked, not deleted, item named
    assert chat.last().text.startswith("Nummer 1, „Pflege") and chat.labels() == ["Löschen"]
    async with app.sessions() as db:
        assert await db.scalar(select(JobAlert)) is not None
    await chat.say("1")  # now option 1 of the confirmation
    assert "gelöscht" in chat.last().text
    async with app.sessions() as db:
        assert await db.scalar(select(JobAlert)) is None
    await chat.say("/following")
    await chat.say("1")  # which shop it is said (before: only "Zu Nummer 1")
    assert chat.last().text == "Nummer 1, „Café Rosa“ – bitte bestätige:"
    assert chat.labels() == ["Entfolgen"]
    await chat.say("abbrechen")  # the confirmation dropped, said so
    assert chat.last().text == "Gut, dann nicht – es wurde nichts geändert."
    await chat.say("1")  # no longer the confirmation's option
    assert "keine Updates mehr" not in chat.text()
    await chat.say("/following")
    assert "1. Café Rosa" in chat.last().text
    await chat.say("1 entfolgen")  # the action named: done at once, as a pressed button
    assert "keine Updates mehr von Café Rosa" in chat.last().text


async def test_a_typed_number_under_a_list_shown_during_a_form_asks_first(app, chat_en):
    async with app.sessions() as db:
        booked = await db.scalar(select(func.count(Registration.id)))
    await chat_en.say("buy a voucher for cafe rosa")
    await chat_en.say("/evenings goethe")  # a list, then the amount question again
    assert "For what amount?" in chat_en.last().text
    await chat_en.say("1")  # item 1 or the amount? asked, nothing booked
    assert chat_en.last().text.startswith("Number 1, “") and "Goethe-Gymnasium" in (
        chat_en.last().text
    )
    assert chat_en.labels() == ["Register"]
    async with app.sessions() as db:
        assert await db.scalar(select(func.count(Registration.id))) == booked
    await chat_en.say("1")
    assert "You are registered" in chat_en.last().text
    await chat_en.say("25")  # the voucher form is still open
    assert "€25.00" in chat_en.text()


async def test_a_typed_number_of_an_option_that_cannot_be_undone_asks_once(chat):
    await chat.say("/follow cafe rosa")
    assert chat.labels() == ["Entfolgen"]
    await chat.say("1")  # the answer's only option, by number: asked first
    assert chat.last().text == "„Entfolgen“ – bitte bestätige:" and chat.labels() == ["Entfolgen"]
    await chat.say("1")  # asked once: now it is meant
    assert "keine Updates mehr von Café Rosa" in chat.last().text
    await chat.say("/evenings")
    await chat.say("1")  # registered, the answer offers "[1] Platz zurückgeben"
    assert "angemeldet" in chat.last().text
    await chat.say("1")  # the same number again: asked, the place is kept
    assert chat.last().text == "„Platz zurückgeben“ – bitte bestätige:"
    await chat.say("/follow cafe rosa")
    await chat.say("1")
    await chat.say("hallo")  # the confirmation holds for the next turn only
    await chat.say("/follow cafe rosa")
    await chat.say("1")
    assert chat.last().text == "„Entfolgen“ – bitte bestätige:"


def test_every_action_that_cannot_be_undone_is_declared_so():
    asked = {name for name, route in registry.buttons.items() if not route.by_number}
    assert asked == {
        "alert.delete",
        "job.close",
        "shop.unfollow",
        "ppe.withdraw",
        "ppe.delivered",
        "ev.give",  # a place given back may go to the waiting list at once
    }
    assert registry.buttons["job.details"].by_number and registry.buttons["ev.reg"].by_number


def test_an_items_empty_line_is_not_indented_into_a_line_of_spaces():
    reply = page("Bewerbungen (1):", [Item("von: anna\n\nIch habe Erfahrung.\nTel 0231 1234")])
    item = "1. von: anna\n\n   Ich habe Erfahrung.\n   Tel 0231 1234"
    assert reply.text == f"Bewerbungen (1):\n\n{item}"
    assert not [line for line in reply.text.splitlines() if line and not line.strip()]


async def test_the_last_list_stays_nameable_after_an_items_details(chat):
    await chat.say("pflegejobs")
    items = page_items(chat.last())
    await chat.say("1")  # item 1's details: its own buttons now
    assert "Arbeitgeber:" in chat.last().text
    await chat.say("3 bewerben")  # still item 3 of the list above
    assert items[3].split("\n")[0] in chat.text() and "Bewerbung" in chat.text()
    await chat.say("abbrechen")
    await chat.say("mehr")  # the list's own "Mehr"
    assert sorted(page_items(chat.last())) == [4, 5, 6]


async def test_a_list_shown_before_a_language_switch_answers_to_the_new_languages_labels(chat):
    await chat.say("pflegejobs")
    assert chat.labels()[-2:] == ["Mehr", "Benachrichtige mich"]
    await chat.say("/language en")
    await chat.say("more")  # the German list's "Mehr", typed in the new language
    assert sorted(page_items(chat.last())) == [4, 5, 6]
    assert "More" in chat.labels(), "the new page is in English"


def test_same_label_pairs_one_message_ids_texts_only():
    from bot.i18n import same_label

    assert same_label("Mehr", "more") and same_label("Bewerben", "apply")
    assert not same_label("Mehr", "weiter") and not same_label("Mehr", "apply")


async def test_items_of_earlier_pages_stay_nameable_and_the_range_is_the_lists(chat):
    await chat.say("pflegejobs")
    first_page = page_items(chat.last())
    await chat.say("mehr")
    assert sorted(page_items(chat.last())) == [4, 5, 6]
    await chat.say("2")  # item 2 is above page 2: its details (before: "bitte 1 bis 6")
    assert first_page[2].split("\n")[0] in chat.last().text and "Arbeitgeber:" in chat.last().text
    await chat.say("mehr")  # the list's next page (from the kept list)
    assert sorted(page_items(chat.last())) == [7, 8, 9]
    await chat.say("3 bewerben")  # an earlier page's item by its full label
    assert first_page[3].split("\n")[0] in chat.text() and "Bewerbung" in chat.text()
    await chat.say("abbrechen")
    await chat.say("pflegejobs")  # a new search: page 1 of a new list, nothing earlier kept
    await chat.say("99")
    assert chat.last().text.endswith("bitte eine von 1 bis 3.")


async def test_more_at_the_end_of_a_list_says_that_was_all(chat, chat_en):
    await chat.say("pflege teilzeit")
    while "Mehr" in chat.labels():
        await chat.say("mehr")
    await chat.say("mehr")  # before: "nicht verstanden"
    assert chat.last().text == "Das war alles – mehr gibt es in dieser Liste nicht."
    await chat_en.say("part-time nursing jobs")
    while "More" in chat_en.labels():
        await chat_en.say("more")
    await chat_en.say("show me more please")  # before: the help text
    assert chat_en.last().text.startswith("That was all")


async def test_a_yes_or_no_to_an_items_confirmation_is_its_answer(chat):
    await chat.say("/follow cafe rosa")
    await chat.say("/following")
    await chat.say("1")
    assert chat.last().text == "Nummer 1, „Café Rosa“ – bitte bestätige:"
    await chat.say("nein")  # before: "Gerade ist keine Frage offen"
    assert chat.last().text.startswith("Gut, dann nicht – es wurde nichts geändert.")
    await chat.say("/following")
    await chat.say("1")
    await chat.say("ja")  # the one action asked about
    assert "keine Updates mehr von Café Rosa" in chat.last().text
    await chat.say("einen moment bitte")  # outside a form: no goodbye, no question
    assert chat.last().text == "Kein Problem – ich bin da, wenn du so weit bist."
