"""Form steps as people answer them: a hedged "yes" is asked again, "zurück" goes one step back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.vouchers import Voucher


async def vouchers_reserved(app) -> int:
    async with app.sessions() as db:
        return await db.scalar(select(func.count(Voucher.id))) or 0


@pytest.mark.parametrize(
    "answer", ["ja aber lieber 30 euro", "ok warte kurz", "klingt gut aber ich überlege noch"]
)
async def test_a_yes_with_a_change_or_a_pause_does_not_confirm(app, chat, answer):
    before = await vouchers_reserved(app)
    await chat.say("ich möchte einen gutschein über 25 euro für café rosa")
    await chat.say(answer)
    if "30 euro" in answer:  # the change is taken (Form.revise): the summary again, with 30 €
        assert "30,00 €" in chat.last().text
    else:
        assert "zurück" in chat.last().text
    assert chat.labels() == ["Bestätigen", "Abbrechen"]
    assert await vouchers_reserved(app) == before
    await chat.say("ja bitte")  # a plain yes still confirms
    assert "Reserviert" in chat.text()
    assert await vouchers_reserved(app) == before + 1


async def test_back_asks_the_last_answer_again_and_keeps_the_others(app, chat_en):
    before = await vouchers_reserved(app)
    await chat_en.say("buy a 25 euro voucher for cafe rosa")
    assert chat_en.last().text.startswith("Voucher for €25.00 at Café Rosa")
    await chat_en.say("back")  # from the confirmation: the amount again
    assert "For what amount?" in chat_en.last().text
    await chat_en.say("30")
    assert chat_en.last().text.startswith("Voucher for €30.00 at Café Rosa")
    await chat_en.say("zurück")
    await chat_en.say("zurück")  # before the amount: the shop
    assert "Which shop" in chat_en.last().text
    await chat_en.say("zurück")  # nothing before the first step: said, asked again
    assert "first step" in chat_en.text() and "Which shop" in chat_en.last().text
    await chat_en.say("Bäckerei Müller")
    assert "For what amount?" in chat_en.last().text  # the amount was the step after the shop
    await chat_en.say("cancel")
    assert await vouchers_reserved(app) == before


async def test_a_new_request_inside_a_form_is_told_how_to_leave(chat):
    await chat.say("gutschein für café rosa")
    await chat.say("welche jobs gibt es in der pflege")  # no amount, but a request
    assert "Das klingt nach einer neuen Frage" in chat.last().text
    assert "Über welchen Betrag?" in chat.last().text  # the form still waits
    assert "Betrag" not in chat.turns[-1][0].text.split("\n\n")[0], "no amount error first"
    await chat.say("zwölf")  # an answer that does not fit: only the error
    assert "neuen Frage" not in chat.last().text


async def test_an_over_long_answer_is_said_and_the_question_asked_again(chat):
    await chat.say("gutschein für café rosa")
    await chat.say("x" * 5000)
    assert "zu lang" in chat.last().text and "Über welchen Betrag?" in chat.last().text
    await chat.say("2")  # still the 2nd amount button
    assert "25,00 €" in chat.last().text and "Bestätigen" in chat.labels()


async def test_a_number_beyond_the_offered_ones_says_the_range(chat):
    await chat.say("hallo")
    await chat.say("99")
    assert chat.last().text == "Eine Nummer 99 gibt es hier nicht – bitte eine von 1 bis 4."
    await chat.say("pflegejobs")
    await chat.say("9")  # a list page of three items
    assert chat.last().text.endswith("bitte eine von 1 bis 3.")


@pytest.mark.parametrize("pause", ["moment bitte", "Warte kurz!", "one sec"])
async def test_a_pause_at_a_free_text_step_is_no_answer(chat, pause):
    await chat.say("pflegejobs")
    await chat.say("1 bewerben")
    asked = chat.last().text.split("\n\n")[-1]  # the question, after the form's intro
    assert asked.startswith("Was möchtest du dem Arbeitgeber schreiben?")
    await chat.say(pause)  # before: taken as the message to the employer
    reply = chat.last()
    assert reply.text.startswith("Kein Problem, ich warte") and asked in reply.text
    assert len(chat.turns[-1]) == 1 and reply.buttons[-1].label == "Abbrechen"
    await chat.say("Ich bin Pflegefachkraft mit fünf Jahren Erfahrung.")
    assert "Wie kann der Arbeitgeber dich erreichen?" in chat.last().text


@pytest.mark.parametrize("typed", ["sozialarbeit", "security", "zeitarbeit"])
async def test_a_short_option_inside_a_typed_word_is_no_choice(app, chat, typed):
    from storage.jobs import JobAlert

    await chat.say("benachrichtige mich bei neuen jobs")
    assert "Für welchen Bereich" in chat.last().text
    await chat.say(typed)  # before: read as "IT" (its two letters inside the word)
    assert "Bitte wähle eine der Optionen" in chat.text()
    await chat.say("IT")  # the option itself still counts
    assert "Gespeichert" in chat.last().text
    async with app.sessions() as db:
        assert await db.scalar(select(JobAlert.field).where(JobAlert.user_id > 0)) == "it"


async def test_an_option_with_an_umlaut_is_found_when_typed_with_ae_oe_ue(app, chat_factory):
    from storage.users import create_invite

    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "school_staff", "grundschule-am-park")).code
    staff = chat_factory("lehrer", "de")
    await staff.say(f"/claim {code}")
    await staff.say("/schoolevenings")
    await staff.say("1")
    await staff.press("Bearbeiten")
    assert "Was möchtest du ändern?" in staff.last().text
    await staff.say("plaetze")  # before: "Bitte wähle eine der Optionen" for ever
    assert "Bitte wähle" not in staff.last().text
    assert "Abbrechen" in staff.labels() and "Titel" not in staff.labels()


async def test_asking_for_another_language_inside_a_form_switches_and_asks_again(app, chat):
    from storage.jobs import Application

    await chat.say("pflegejobs")
    await chat.say("1 bewerben")
    await chat.say("can you speak english please")  # before: the message to the employer
    assert "English" in chat.text() and "What would you like to tell the employer?" in chat.text()
    await chat.say("I have ten years of experience in nursing, call 0176 1234567.")
    await chat.press("No, stay anonymous")
    assert "can you speak english" not in chat.last().text
    await chat.press("Confirm")
    async with app.sessions() as db:
        message = await db.scalar(select(Application.message))
    assert message.startswith("I have ten years")
