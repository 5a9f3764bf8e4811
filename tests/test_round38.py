"""Round 38: the platform's fixes – follow-ups, where-questions, forms, language, privacy."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from bot.follow_up import asks_where_it_is
from nlu.gazetteer import PhraseMatcher
from storage import parent_evenings as pe
from storage.base import utcnow
from storage.conversations import ConversationState
from storage.users import create_invite
from tests.conftest import Chat
from tests.personas import press, role_chat


def header(chat: Chat) -> str:
    """The first line of the last answer (a search's "Ich habe … gefunden (…):")."""
    return chat.last().text.split("\n")[0]


async def test_a_follow_up_naming_a_district_narrows_the_search_before(chat: Chat) -> None:
    await chat.say("ich suche arbeit in der pflege")
    await chat.say("und in der nordstadt?")  # before: the shops in the Nordstadt
    assert header(chat).endswith("(Pflege · Nordstadt):"), chat.text()


async def test_a_follow_up_asking_for_something_else_is_that_request(chat: Chat) -> None:
    await chat.say("ich suche arbeit in der pflege")
    await chat.say("und einen gutschein vom café rosa?")
    assert "Betrag" in chat.text() and "Stellen" not in chat.text()
    await chat.say("abbrechen")
    await chat.say("ich suche arbeit in der pflege")
    await chat.say("und bei café rosa?")  # a shop is a request of its own, no job filter
    assert "Café Rosa" in chat.last().text and "Stellen" not in header(chat)


async def test_only_mini_jobs_after_a_search_narrows_it(chat: Chat) -> None:
    await chat.say("ich suche arbeit in der pflege")
    await chat.say("nur minijobs")  # before: "nur minijobs" was "nursing jobs" with two typos
    assert header(chat).endswith("(Pflege · Minijob):"), chat.text()


def test_a_fuzzy_phrase_of_several_words_splits_where_its_words_do() -> None:
    matcher = PhraseMatcher({"nursing": ["nursing jobs"], "mini_job": ["minijobs"]})
    assert [m.value for m in matcher.find_best("nur minijobs")] == ["mini_job"]
    assert [m.value for m in matcher.find_best("nursng jobs")] == ["nursing"]
    assert [m.value for m in matcher.find_best("nursing jbos")] == ["nursing"]


@pytest.mark.parametrize(
    ("lang", "opened", "asked"),
    [
        ("de", "hat die bäckerei müller heute offen", "wo ist die?"),
        ("de", "hat die bäckerei müller heute offen", "wie ist die adresse?"),
        ("en", "is bäckerei müller open today", "how do i get there?"),
        ("en", "is bäckerei müller open today", "what's the address?"),
    ],
)
async def test_where_under_a_shop_card_gives_the_way_there(
    chat_factory: Callable[..., Chat], lang: str, opened: str, asked: str
) -> None:
    chat = chat_factory("walker", lang)
    await chat.say(opened)
    await chat.say(asked)  # before: not understood, or the help text
    assert "Hermannstraße 48" in chat.last().text and "openstreetmap" in chat.last().text


async def test_where_after_anything_else_is_no_request(chat: Chat) -> None:
    await chat.say("ich suche arbeit in der pflege")
    await chat.say("wo ist das?")  # no place was shown: not a search for all jobs
    assert "Stellen" not in chat.text()
    await chat.say("hat die bäckerei müller heute offen")
    await chat.say("wo ist das rathaus")  # a place of its own: not the bakery
    assert "Hermannstraße" not in chat.text()


def test_asks_where_it_is() -> None:
    assert asks_where_it_is("wo ist die?") and asks_where_it_is("How do I get there?")
    assert not asks_where_it_is("wo ist das rathaus") and not asks_where_it_is("ist die offen?")


async def test_an_evenings_attendee_names_are_not_kept_in_the_staff_chat_state(
    app: App, chat_factory: Callable[..., Chat]
) -> None:
    """The attendee list names parents; its numbered lines were kept as item titles in the
    teacher's chat state, where a parent's name outlived the parent's /deletedata."""
    await role_chat(app, chat_factory, "lehrerin", "de", "school_staff", "grundschule-am-park")
    async with app.sessions() as db, db.begin():
        school = await pe.school_by_key(db, "grundschule-am-park")
        session = await pe.create_session(
            db, school, title="Elternabend 3a", classes=["3a"],
            starts_at=utcnow() + timedelta(days=2), duration_minutes=60, capacity=5,
            room_url="https://meet.example.org/3a",
        )
    parent = chat_factory("annegret", "de")
    await parent.say("hallo")  # the console gives the user's name
    await press(app, "annegret", f"ev.reg:{session.id}:0")
    assert "1. annegret" in (await press(app, "lehrerin", f"ev.att:{session.id}"))[0].text
    await parent.say("/deletedata")
    await parent.say("ja")
    async with app.sessions() as db:
        states = (await db.scalars(select(ConversationState.data))).all()
    assert not [data for data in states if "annegret" in json.dumps(data)]


@pytest.mark.parametrize(
    ("said", "then_in"),
    [
        ("sorry i dont speak german", "en"),
        ("no german please", "en"),
        ("my german is not good", "en"),
        ("ich spreche kein englisch", "de"),
        ("sprichst du kein englisch?", "en"),
    ],
)
async def test_saying_one_does_not_speak_a_language_switches_to_the_other(
    chat_factory: Callable[..., Chat], said: str, then_in: str
) -> None:
    chat = chat_factory("traveller", None)
    await chat.say("hallo" if then_in == "en" else "hello")
    await chat.say(said)  # before: "not german" switched to German for good
    await chat.say("nursing jobs")
    expected = "I found" if then_in == "en" else "Ich habe"
    assert chat.last().text.startswith(expected), chat.text()


ANOTHER_REQUEST = "Das klingt nach einer neuen Frage"


async def test_a_question_of_the_forms_own_service_is_a_new_question(
    app: App, chat_factory: Callable[..., Chat], feuerwehr: Chat
) -> None:
    teacher = await role_chat(
        app, chat_factory, "lehrer", "de", "school_staff", "grundschule-am-park"
    )
    for answer in ("/newevening", "Testabend", "2a", "nächsten dienstag 19 uhr", "60"):
        await teacher.say(answer)
    await teacher.say("welche elternabende gibt es nächste woche")  # before: "Die Platzzahl …"
    assert teacher.text().startswith(ANOTHER_REQUEST), teacher.text()
    await feuerwehr.say("/ppe")
    await feuerwehr.say("100 ffp2 masken")
    await feuerwehr.say("was ist mit meiner bestellung")  # before: "Dieses Datum verstehe ich …"
    assert feuerwehr.text().startswith(ANOTHER_REQUEST), feuerwehr.text()



async def test_english_times_are_day_first_with_a_24_hour_clock(chat_en: Chat) -> None:
    await chat_en.say("nursing jobs")
    await chat_en.say("1")  # "Posted: 7 Dec 2026, 20:36" (before: "Dec 7, 2026, 8:36 PM")
    day_first = r"\b\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}\b"
    assert re.search(day_first, chat_en.text()), chat_en.text()
    assert not re.search(r"\d (?:AM|PM)\b", chat_en.text())


@pytest.mark.parametrize(
    "narrowed", ["only in hörde", "just the ones in hörde pls", "and in hörde?"]
)
async def test_only_in_a_district_narrows_the_search_before(chat_en: Chat, narrowed: str) -> None:
    await chat_en.say("nursing jobs")
    await chat_en.say(narrowed)  # before: not understood, or the bakery in Hörde
    assert header(chat_en).endswith("(nursing · Hörde):"), chat_en.text()


async def test_a_new_question_at_the_confirmation_says_so_and_shows_the_summary(chat: Chat) -> None:
    await chat.say("gutschein für café rosa")
    await chat.say("25")
    await chat.say("wann hat die bäckerei müller offen")  # before: "Bitte bestätige oder …"
    assert chat.text().startswith(ANOTHER_REQUEST), chat.text()
    assert "25,00 € für Café Rosa" in chat.last().text and "Bestätigen" in chat.labels()


async def test_english_voucher_dates_are_day_first(chat_en: Chat) -> None:
    await chat_en.say("buy a voucher for cafe rosa")
    await chat_en.say("25")
    await chat_en.say("yes")  # "… in the shop by 15 Dec 2026" (before: "by Dec 15, 2026")
    assert re.search(r"\bby \d{1,2} [A-Z][a-z]{2} \d{4}\b", chat_en.text()), chat_en.text()


async def test_a_yes_naming_the_one_offered_button_presses_it(chat_en: Chat) -> None:
    await chat_en.say("nursing jobs pls")
    await chat_en.say("1")  # the details, with [Apply]
    await chat_en.say("that one looks good, i want to apply")  # read as a yes
    assert "tell the employer" in chat_en.last().text, chat_en.text()  # before: "Please tap …"


async def test_a_request_at_a_choice_step_is_no_option_sharing_a_word(chat: Chat) -> None:
    await chat.say("sag mir bescheid wenn es neue jobs gibt")
    assert "Alle Bereiche" in chat.labels()
    await chat.say("lösch alle meine daten")  # before: "Alle Bereiche" picked, the alert saved
    assert chat.text().startswith(ANOTHER_REQUEST), chat.text()
    await chat.say("ich nehme die pflege")  # longer than the label, and says it: picked
    assert "Sofort" in chat.labels() and ANOTHER_REQUEST not in chat.text()  # the next step


async def test_the_shop_stays_in_view_after_its_directions(chat: Chat) -> None:
    await chat.say("café rosa")
    await chat.say("wo ist die?")
    assert chat.last().text.startswith("So kommst du zu Café Rosa") and "Folgen" in chat.labels()
    await chat.say("wie komme ich da hin?")  # before: the list of all 14 shops
    assert chat.last().text.startswith("So kommst du zu Café Rosa"), chat.text()
    await chat.say("hat die morgen offen?")
    assert chat.last().text.startswith("Café Rosa"), chat.text()


async def test_a_bare_district_after_a_search_narrows_it(chat: Chat, chat_en: Chat) -> None:
    await chat.say("pflegejobs")
    await chat.say("in der nordstadt")  # before: the shops in the Nordstadt
    assert header(chat).endswith("(Pflege · Nordstadt):"), chat.text()
    await chat_en.say("nursing jobs")
    await chat_en.say("in hörde please")  # before: Bäckerei Müller's card
    assert header(chat_en).endswith("(nursing · Hörde):"), chat_en.text()


async def test_an_invite_code_read_as_a_voucher_code_is_claimed(
    app: App, chat: Chat, chat_en: Chat
) -> None:
    async with app.sessions() as db, db.begin():
        first = (await create_invite(db, "employer", "klinikum-nord")).code
        second = (await create_invite(db, "employer", "klinikum-nord")).code
    await chat.say(first.lower())  # before: "Dieser Code ist vertippt – das Prüfzeichen …"
    assert chat.last().text.startswith("Erledigt"), chat.text()
    await chat_en.say(f"my invite code is {second}")  # before: "There is no voucher …"
    assert chat_en.last().text.startswith("Done"), chat_en.text()


async def test_a_wish_without_a_name_under_a_card_is_for_its_shop(
    chat: Chat, chat_en: Chat
) -> None:
    await chat.say("café rosa")
    await chat.say("ja, einen gutschein kaufen bitte")  # before: "Für welchen Laden …?"
    assert "Über welchen Betrag" in chat.text() and "Laden" not in chat.last().text
    await chat.say("abbrechen")
    await chat_en.say("café rosa")
    await chat_en.say("yes i want to follow")  # before: "Which shop would you like to follow?"
    assert chat_en.last().text.startswith("You now follow Café Rosa"), chat_en.text()


@pytest.mark.parametrize(
    "asked_before", ["was passiert mit meinen daten?", "meine termine", "/vouchers"]
)
async def test_a_district_after_a_request_that_is_no_search_is_a_request_of_its_own(
    chat: Chat, asked_before: str
) -> None:
    await chat.say(asked_before)
    await chat.say("in der nordstadt")  # before: the data export again, "Welcher Laden …?"
    assert "Feinkost Anatolia" in chat.last().text and chat.last().file is None, chat.text()


@pytest.mark.parametrize(
    "narrowed", ["wie wäre es mit hörde?", "in hörde bitte", "hörde", "und in hörde?"]
)
async def test_a_district_read_as_small_talk_after_a_search_narrows_it(
    chat: Chat, narrowed: str
) -> None:
    await chat.say("pflegejobs")
    await chat.say(narrowed)  # before: the help, "nicht verstanden", "Die Liste steht oben"
    assert header(chat).endswith("(Pflege · Hörde):"), chat.text()


async def test_a_where_question_with_a_yes_first_and_an_amount_with_a_question_mark(
    chat: Chat,
) -> None:
    await chat.say("zeig mir die trattoria da enzo")
    await chat.say("ja, wie komme ich da hin?")  # before: the help
    assert chat.last().text.startswith("So kommst du zu Trattoria Da Enzo"), chat.text()
    await chat.say("gutschein für café rosa")
    await chat.say("15 euro?")  # before: "Das verstehe ich nicht als Betrag"
    assert "15,00 € für Café Rosa" in chat.text(), chat.text()


async def test_the_weekend_is_saturday_and_sunday(app: App, chat: Chat) -> None:
    tz = app.config.city.tz
    today = utcnow().astimezone(tz).date()
    if today.weekday() == 6:
        pytest.skip("on a Sunday 'am wochenende' is today alone")
    sunday = today + timedelta(days=(5 - today.weekday()) % 7 + 1)
    async with app.sessions() as db, db.begin():
        school = await pe.school_by_key(db, "grundschule-am-park")
        await pe.create_session(
            db, school, title="Sonntagsabend 3a", classes=["3a"],
            starts_at=datetime.combine(sunday, time(18), tzinfo=tz), duration_minutes=60,
            capacity=5, room_url="https://meet.example.org/so",
        )
    await chat.say("elternabende am wochenende")  # before: "Am Sa. … keinen Elternabend"
    assert "Sonntagsabend 3a" in chat.text() and "keinen Elternabend" not in chat.text()


async def test_staffs_bare_new_evening_opens_the_form(
    app: App, chat_factory: Callable[..., Chat], chat: Chat
) -> None:
    teacher = await role_chat(
        app, chat_factory, "lehrkraft", "de", "school_staff", "grundschule-am-park"
    )
    await teacher.say("neuer elternabend")  # before: "Kommende Elternabende (6) …"
    assert "Kommende Elternabende" not in teacher.text() and "Abbrechen" in teacher.labels()
    await chat.say("neuer elternabend")  # a parent: the list, as before
    assert "Elternabend" in chat.text() and "Abbrechen" not in chat.labels()


async def test_a_plain_yes_presses_the_one_offered_action_unless_it_undoes(
    chat: Chat, chat_en: Chat
) -> None:
    await chat_en.say("nursing jobs")
    await chat_en.say("1")  # the details: one [Apply]
    await chat_en.say("yes")  # before: "Please tap the button …"
    assert "tell the employer" in chat_en.last().text, chat_en.text()
    await chat.say("/follow cafe rosa")  # [Entfolgen]: an undo is never pressed by a yes
    await chat.say("ja")
    assert "keine Updates mehr" not in chat.text() and "Knopf" in chat.text()
