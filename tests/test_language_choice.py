"""Language of a new user without a platform locale (console): detected, offered once, chosen."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy import text as sql

from bot.app import App
from bot.i18n import translator
from bot.language_choice import OFFER_STREAK
from nlu import EmbeddedNLU
from nlu.rasa_backend import RasaNLU
from storage import migrate
from storage.db import create_engine
from storage.users import Identity, User
from tests.conftest import Chat

de, en = translator("de"), translator("en")
ENGLISH = [
    "any nursing jobs?",
    "show me part time jobs please",
    "what can you do for me",
    "which shops can I follow here",  # a list of shops: an offer waits for the next answer
    "are there any parent evenings coming up",
]


async def stored(app: App, name: str) -> User:
    """The console user's row as committed."""
    async with app.sessions() as db:
        user = await db.scalar(
            select(User)
            .join(Identity)
            .where(Identity.platform == "console", Identity.external_id == name)
        )
        assert user is not None
        return user


@pytest.fixture
def newcomer(chat_factory: Callable[..., Chat]) -> Chat:
    """A new console user: no locale, no /language."""
    return chat_factory("newcomer", None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("any nursing jobs?", "en"),
        ("gibt es jobs in der pflege?", "de"),
        ("I'm looking for work as a nurse", "en"),
        ("ich möchte einen gutschein kaufen", "de"),
    ],
)
def test_a_message_that_tells_its_language_is_guessed(nlu_model: EmbeddedNLU, text, expected):
    language, confidence = nlu_model.language_guess(text)
    assert language == expected and confidence >= 0.9


@pytest.mark.parametrize(
    "text", ["ok", "👍", "12", "1", "Ben", "Anna Schmidt", "Max Mustermann", "K7QF-2M9X", "ok 👍"]
)
def test_short_texts_numbers_and_names_tell_nothing(nlu_model: EmbeddedNLU, text):
    assert nlu_model.language_guess(text) is None


def test_the_rasa_backend_guesses_with_the_embedded_detector(nlu_model: EmbeddedNLU):
    rasa = RasaNLU("http://127.0.0.1:9", nlu_model)
    assert rasa.language_guess("any nursing jobs?") == nlu_model.language_guess("any nursing jobs?")
    assert rasa.language_guess("ok") is None


async def test_a_new_user_writing_english_gets_english(app, newcomer):
    await newcomer.say("any nursing jobs?")
    assert "1 Apply" in newcomer.labels()
    user = await stored(app, "newcomer")
    assert (user.language, user.language_source) == ("en", "detected")


async def test_a_new_user_writing_german_gets_german(app, newcomer):
    await newcomer.say("gibt es jobs in der pflege?")
    assert "1 Bewerben" in newcomer.labels()
    user = await stored(app, "newcomer")
    assert (user.language, user.language_source) == ("de", "detected")


async def test_ok_decides_nothing_and_the_next_message_decides(app, newcomer):
    await newcomer.say("ok")
    user = await stored(app, "newcomer")
    assert (user.language, user.language_source) == ("de", None)
    await newcomer.say("/help")  # a command decides nothing either
    assert (await stored(app, "newcomer")).language_source is None
    await newcomer.say("any nursing jobs?")
    assert "1 Apply" in newcomer.labels()
    assert (await stored(app, "newcomer")).language == "en"


async def test_writing_on_in_the_other_language_brings_one_offer_and_it_switches(app, newcomer):
    await newcomer.say("ich suche arbeit in der pflege")
    assert "1 Bewerben" in newcomer.labels()
    for text in ENGLISH[: OFFER_STREAK - 1]:
        await newcomer.say(text)
        assert en("language.offer") not in newcomer.text()
    await newcomer.say(ENGLISH[OFFER_STREAK - 1])
    assert newcomer.last().text == en("language.offer")
    assert [b.label for b in newcomer.last().buttons] == [
        en("language.offer.switch"),
        en("language.offer.keep"),
    ]
    answer, *_ = newcomer.turns[-1]
    assert answer.text != en("language.offer") and "Läden" in answer.text  # the answer first
    await newcomer.press(en("language.offer.switch"))
    assert newcomer.last().text == en("language.set")
    await newcomer.say("ich suche arbeit in der pflege")
    assert "1 Apply" in newcomer.labels()  # chosen: German messages no longer move it
    user = await stored(app, "newcomer")
    assert (user.language, user.language_source) == ("en", "chosen")


async def test_the_offer_is_made_only_once(app, newcomer):
    await newcomer.say("ich suche arbeit in der pflege")
    offers = 0
    for text in ENGLISH * 2:
        await newcomer.say(text)
        offers += newcomer.text().count(en("language.offer"))
    assert offers == 1
    user = await stored(app, "newcomer")
    assert (user.language, user.language_offer) == ("de", "en")


async def test_keeping_the_language_is_final(app, newcomer):
    await newcomer.say("ich suche arbeit in der pflege")
    for text in ENGLISH[:OFFER_STREAK]:
        await newcomer.say(text)
    await newcomer.press(en("language.offer.keep"))
    assert newcomer.last().text == de("language.set")
    for text in ENGLISH:
        await newcomer.say(text)
        assert en("language.offer") not in newcomer.text()
    assert (await stored(app, "newcomer")).language_source == "chosen"


async def test_a_message_in_the_own_language_breaks_the_streak(app, newcomer):
    await newcomer.say("ich suche arbeit in der pflege")
    lines = [*ENGLISH[:2], "welche läden gibt es in der stadt", *ENGLISH[2:4], "ok", "12"]
    for text in lines:
        await newcomer.say(text)
        assert en("language.offer") not in newcomer.text()
    assert (await stored(app, "newcomer")).language_streak == 2


async def test_language_command_wins_over_detection(app, newcomer):
    await newcomer.say("/language de")
    for text in ENGLISH:
        await newcomer.say(text)
        assert en("language.offer") not in newcomer.text()
    assert "1 Bewerben" in [b.label for r in newcomer.turns[1] for b in r.buttons]
    user = await stored(app, "newcomer")
    assert (user.language, user.language_source) == ("de", "chosen")


async def test_language_command_after_detection_is_final(app, newcomer):
    await newcomer.say("any nursing jobs?")
    assert "1 Apply" in newcomer.labels()
    await newcomer.say("/language de")
    for text in ENGLISH:
        await newcomer.say(text)
        assert en("language.offer") not in newcomer.text()
    await newcomer.say("any nursing jobs?")
    assert "1 Bewerben" in newcomer.labels()


async def test_a_platform_locale_is_kept(app, chat_factory):
    tourist = chat_factory("tourist", "de")  # the platform says German
    await tourist.say("any nursing jobs?")
    assert "1 Bewerben" in tourist.labels()
    for text in ENGLISH:
        await tourist.say(text)
        assert en("language.offer") not in tourist.text()
    user = await stored(app, "tourist")
    assert (user.language, user.language_source) == ("de", "platform")


async def test_an_unknown_locale_counts_as_none(app, chat_factory):
    visitor = chat_factory("visitor", "fr")
    await visitor.say("any nursing jobs?")
    assert "1 Apply" in visitor.labels()


async def test_no_offer_in_the_middle_of_a_form(app, newcomer):
    await newcomer.say("ich suche arbeit in der pflege")
    await newcomer.say("show me part time jobs please")
    await newcomer.say("any nursing jobs?")
    await newcomer.press("1 Bewerben")
    assert newcomer.last().text.endswith(de("jobs.apply.ask_message"))
    await newcomer.say("I have been a nurse for ten years and would love to work with you")
    assert (await stored(app, "newcomer")).language_streak == OFFER_STREAK
    assert en("language.offer") not in newcomer.text()  # the form goes on undisturbed
    await newcomer.say("/cancel")
    assert newcomer.last().text == en("language.offer")  # with the first answer after it


async def test_migration_settles_the_users_from_before(database_url: str):
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine, "0009")
        async with engine.begin() as connection:
            for user_id, platform in ((1, "telegram"), (2, "matrix"), (3, "console")):
                await connection.execute(
                    sql(
                        "INSERT INTO users (id, language, created_at, last_seen_at)"
                        " VALUES (:id, 'de', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"id": user_id},
                )
                await connection.execute(
                    sql(
                        "INSERT INTO identities (user_id, platform, external_id, reachable,"
                        " last_seen_at) VALUES (:id, :platform, :ext, true, CURRENT_TIMESTAMP)"
                    ),
                    {"id": user_id, "platform": platform, "ext": f"u{user_id}"},
                )
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            rows = await connection.execute(
                sql("SELECT id, language_source, language_streak, language_offer FROM users")
            )
            found = sorted(tuple(row) for row in rows)
        assert found == [
            (1, "platform", 0, None),
            (2, "detected", 0, None),
            (3, "detected", 0, None),
        ]
    finally:
        await engine.dispose()


async def test_no_offer_under_a_list_its_choices_are_typed_by_item_number(app, newcomer):
    await newcomer.say("ich suche arbeit in der pflege")
    await newcomer.say("which shops are in hörde")
    await newcomer.say("is cafe rosa open today")
    await newcomer.say("any parent evenings next week")  # the third: a list of evenings
    assert (await stored(app, "newcomer")).language_streak == OFFER_STREAK
    assert en("language.offer") not in newcomer.text()  # not under the list
    await newcomer.say("1")  # item 1 of the list, as the list says
    assert newcomer.last().text == en("language.offer")  # with the next answer, numbered
    assert "Du bist angemeldet" in newcomer.turns[-1][0].text
