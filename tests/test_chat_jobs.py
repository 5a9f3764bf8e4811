"""Job search, details, applications and alerts, as a citizen would use them."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.jobs import Application, JobAlert
from tests.conftest import page_items


async def test_nursing_search_in_the_city_centre_in_german(chat):
    await chat.say("ich suche arbeit in der pflege in der innenstadt")
    [page] = chat.turns[-1]  # one message: the items numbered, their buttons in one keyboard
    header = page.text.split("\n\n")[0]
    assert "Pflege" in header and "Innenstadt" in header
    jobs = page_items(page)
    assert 1 <= len(jobs) <= 3 and list(jobs) == list(range(1, len(jobs) + 1))
    assert all("Innenstadt" in text for text in jobs.values())
    per_item = [f"{n} {label}" for n in jobs for label in ("Details", "Bewerben")]
    assert [b.label for b in page.buttons][: len(per_item)] == per_item
    assert [b.label for b in page.buttons][len(per_item) :][-1] == "Benachrichtige mich"


async def test_pressing_2_details_shows_the_second_item(chat):
    await chat.say("pflegejobs")
    titles = [text.splitlines()[0] for text in page_items(chat.last()).values()]
    assert len(set(titles)) == len(titles) >= 2
    await chat.press("2 Details")
    assert chat.last().text.splitlines()[0] == titles[1]
    assert "Arbeitgeber:" in chat.last().text


async def test_typing_2_bewerben_applies_to_the_second_item(chat):
    await chat.say("pflegejobs")
    second_title = page_items(chat.last())[2].splitlines()[0]
    await chat.say("2 bewerben")
    assert second_title in chat.turns[-1][0].text
    assert "Was möchtest du dem Arbeitgeber schreiben" in chat.turns[-1][0].text


async def test_part_time_warehouse_search_in_english(chat_en):
    await chat_en.say("any part-time warehouse jobs?")
    [page] = chat_en.turns[-1]
    header = page.text.split("\n\n")[0]
    assert "part-time" in header and "warehouse" in header
    jobs = page_items(page)
    assert jobs and all("part-time" in text for text in jobs.values())
    assert {f"{n} Apply" for n in jobs} <= {b.label for b in page.buttons}


async def test_more_button_shows_the_next_page(chat):
    await chat.say("welche jobs gibt es in der pflege")
    first = page_items(chat.last())
    await chat.press("Mehr")
    [page] = chat.turns[-1]
    second = page_items(page)
    assert list(first) == [1, 2, 3] and min(second) == 4  # numbered on across pages
    assert not set(first.values()) & set(second.values())
    assert "4–" in page.text and page.buttons[0].label == "4 Details"


async def test_details_show_employer_and_description(chat):
    await chat.say("pflegejobs")
    await chat.press("Details")
    text = chat.last().text
    assert "Arbeitgeber:" in text and "Kontakt:" in text
    assert chat.labels() == ["Bewerben"]


async def test_apply_stores_an_application_the_employer_can_read(app, chat, chat_factory):
    await chat.say("ich suche einen job in der pflege")
    job_title = page_items(chat.last())[1].splitlines()[0]
    await chat.press("Bewerben")
    assert "Was möchtest du dem Arbeitgeber schreiben" in chat.last().text
    await chat.say("Ich bin examinierte Pflegekraft, erreichbar unter 0231 555-123.")
    assert chat.labels()[:2] == ["Ja, Namen weitergeben", "Nein, anonym"]
    await chat.press("Ja, Namen")
    assert "Abschicken?" in chat.last().text
    await chat.say("ja")
    assert "angekommen" in chat.last().text
    async with app.sessions() as db:
        application = await db.scalar(select(Application))
        assert application is not None
        assert application.applicant_name == "anna"
        employer = application.job.employer.name
    assert application.job.title == job_title

    admin_code = await _invite(app, "employer", employer)
    boss = chat_factory("chefin", "de")
    await boss.say(f"/claim {admin_code}")
    assert employer in boss.last().text
    await boss.say("/applications")
    text = "\n".join(r.text for r in boss.turns[-1])
    assert "0231 555-123" in text and "anna" in text and job_title in text


async def test_anonymous_application_does_not_store_the_name(app, chat):
    await chat.say("pflegejobs")
    await chat.press("Bewerben")
    await chat.say("Ich habe zehn Jahre Erfahrung, Mail: a@b.example")
    await chat.press("Nein, anonym")
    await chat.press("Bestätigen")
    async with app.sessions() as db:
        application = await db.scalar(select(Application))
    assert application is not None and application.applicant_name is None


async def test_applying_twice_is_refused(chat):
    await chat.say("pflegejobs")
    await chat.press("Bewerben")
    first_turn = chat.turns[-2]
    await chat.say("Hallo, ich möchte mich gern bewerben. Tel 0231 1234")
    await chat.press("Nein")
    await chat.say("ja")
    apply_payload = next(
        b.payload for r in first_turn for b in r.buttons if b.label == "1 Bewerben"
    )
    await chat.say("pflegejobs")
    buttons = [b for r in chat.turns[-1] for b in r.buttons]
    label = next(b.label for b in buttons if b.payload == apply_payload)
    await chat.say(label)  # on a list page a typed number names the item; its label, the button
    assert "schon beworben" in chat.last().text


async def test_an_application_without_a_way_to_answer_asks_for_phone_or_email(app, chat):
    await chat.say("pflegejobs")
    await chat.press("1 Bewerben")
    await chat.say("Ich habe zehn Jahre Erfahrung in der Pflege.")
    assert "Wie kann der Arbeitgeber dich erreichen" in chat.last().text
    await chat.say("morgen")  # neither a phone number nor an address: asked again
    assert "E-Mail-Adresse oder Telefonnummer" in chat.last().text
    await chat.say("+49 231 555 0101")
    await chat.press("Nein, anonym")
    assert "☎ +49 231 555 0101" in chat.last().text  # in the summary
    await chat.press("Bestätigen")
    await chat.say("pflegejobs")
    await chat.press("2 Bewerben")
    await chat.say("Ich bin Altenpflegerin, erreichbar unter anna@example.org")
    assert "Darf ich dem Arbeitgeber deinen Namen nennen" in chat.last().text  # not asked
    await chat.press("Nein, anonym")
    await chat.press("Bestätigen")
    async with app.sessions() as db:
        messages = list(await db.scalars(select(Application.message).order_by(Application.id)))
    assert messages == [
        "Ich habe zehn Jahre Erfahrung in der Pflege.\n☎ +49 231 555 0101",  # any language
        "Ich bin Altenpflegerin, erreichbar unter anna@example.org",
    ]


async def test_years_are_no_phone_number_and_a_contact_is_taken_out_of_a_sentence(app, chat):
    await chat.say("pflegejobs")
    await chat.press("1 Bewerben")
    await chat.say("Ich war von 2015 - 2023 auf der Intensivstation und will zurück in die Pflege.")
    assert "Wie kann der Arbeitgeber dich erreichen" in chat.last().text  # before: not asked
    await chat.say("meine nummer ist 0176 1234567 oder per Mail: anna@example.org")
    await chat.press("Nein, anonym")
    assert "☎ 0176 1234567 · ✉ anna@example.org" in chat.last().text
    await chat.press("Bestätigen")
    async with app.sessions() as db:
        message = await db.scalar(select(Application.message).order_by(Application.id.desc()))
    assert message.endswith("\n☎ 0176 1234567 · ✉ anna@example.org")


async def test_short_application_message_is_rejected_and_asked_again(chat):
    await chat.say("pflegejobs")
    await chat.press("Bewerben")
    await chat.say("hi")
    [reply] = chat.turns[-1]  # the complaint and the question again: one message
    first, second = reply.text.split("\n\n", 1)
    assert "zu kurz" in first
    assert "Was möchtest du dem Arbeitgeber schreiben" in second


async def test_cancel_always_leaves_the_form(app, chat):
    await chat.say("pflegejobs")
    await chat.press("Bewerben")
    await chat.say("abbrechen")
    assert "Abgebrochen" in chat.turns[-1][0].text
    await chat.say("hallo")
    assert "citybot" in chat.last().text
    async with app.sessions() as db:
        assert await db.scalar(select(Application)) is None


async def test_slash_cancel_in_english(chat_en):
    await chat_en.say("nursing jobs")
    await chat_en.press("Apply")
    await chat_en.say("/cancel")
    assert "Nothing was saved" in chat_en.last().text


async def test_help_inside_a_form_keeps_the_form_and_asks_again(chat):
    await chat.say("pflegejobs")
    await chat.press("Bewerben")
    await chat.say("/help")
    assert "Was möchtest du dem Arbeitgeber schreiben" in chat.last().text


async def test_job_alert_in_german_is_stored(app, chat):
    await chat.say("sag mir bescheid wenn es neue pflegejobs gibt")
    assert chat.labels()[:2] == ["Sofort", "Einmal täglich"]
    await chat.press("Sofort")
    assert "Gespeichert" in chat.last().text and "Pflege" in chat.last().text
    async with app.sessions() as db:
        alert = await db.scalar(select(JobAlert))
    assert alert is not None and alert.field == "nursing" and alert.immediate


async def test_alert_without_field_asks_for_it(app, chat_en):
    await chat_en.say("notify me about new jobs")
    assert "Which field" in chat_en.last().text
    await chat_en.press("IT")
    assert "Saved" in chat_en.last().text
    async with app.sessions() as db:
        alert = await db.scalar(select(JobAlert))
    assert alert is not None and alert.field == "it"


async def test_alerts_are_listed_and_deleted(app, chat):
    await chat.say("sag mir bescheid wenn es neue pflegejobs gibt")
    await chat.press("Einmal täglich")
    await chat.say("sag mir bescheid wenn es neue pflegejobs gibt")
    await chat.press("Einmal täglich")
    assert "schon" in chat.last().text
    await chat.say("/alerts")
    assert "(1)" in chat.turns[-1][0].text
    assert chat.labels() == ["1 Löschen"]
    await chat.press("Löschen")
    assert "gelöscht" in chat.last().text
    async with app.sessions() as db:
        assert await db.scalar(select(JobAlert)) is None
    await chat.say("/alerts")
    assert "keine" in chat.last().text


async def test_an_alert_request_that_says_how_often_is_not_asked_again(app, chat, chat_en):
    await chat.say("benachrichtige mich sofort bei pflegejobs in hörde")
    assert chat.last().text.startswith("Gespeichert: Ich melde mich sofort")
    await chat_en.say("alert me about new IT jobs right away")  # IT has no instant alerts
    assert "once a day" in chat_en.last().text
    async with app.sessions() as db:
        alerts = (await db.scalars(select(JobAlert).order_by(JobAlert.id))).all()
    assert [(a.field, a.district, a.immediate) for a in alerts] == [
        ("nursing", "Hörde", True),
        ("it", None, False),
    ]


async def test_asking_about_ones_alerts_shows_them_instead_of_making_one(app, chat):
    await chat.say("sag mir bescheid wenn es neue pflegejobs gibt")
    await chat.press("Einmal täglich")
    for question in ("welche job benachrichtigungen habe ich", "lösch meine job benachrichtigung"):
        await chat.say(question)
        assert chat.last().text.startswith("Deine Job-Benachrichtigungen (1):"), question
    async with app.sessions() as db:
        assert await db.scalar(select(func.count(JobAlert.id))) == 1


async def test_alert_button_under_results_saves_that_search(app, chat):
    await chat.say("teilzeit in der pflege")
    await chat.press("Benachrichtige mich")
    assert "sofort" in chat.last().text  # nursing offers instant alerts: asked, not assumed
    await chat.press("Einmal täglich")
    assert "Gespeichert" in chat.last().text
    async with app.sessions() as db:
        alert = await db.scalar(select(JobAlert))
    assert alert is not None
    assert (alert.field, alert.employment_type, alert.immediate) == (
        "nursing",
        "part_time",
        False,
    )


async def test_alert_button_keeps_an_instant_alert_instant(app, chat):
    await chat.say("sag mir bescheid wenn es neue pflegejobs gibt")
    await chat.press("Sofort")
    await chat.say("pflegejobs")
    await chat.press("Benachrichtige mich")
    await chat.press("Sofort")
    assert "schon" in chat.last().text and "sofort" in chat.last().text
    async with app.sessions() as db:
        alert = await db.scalar(select(JobAlert))
    assert alert is not None and alert.immediate
    await chat.say("/alerts")
    assert "Pflege – sofort" in chat.last().text


async def test_alert_button_of_a_field_without_instant_alerts_saves_at_once(app, chat_en):
    await chat_en.say("IT jobs")
    await chat_en.press("Alert me")
    assert "Saved" in chat_en.last().text and "once a day" in chat_en.last().text
    await chat_en.say("/alerts")
    assert "IT – once a day" in chat_en.last().text


async def _invite(app, role: str, org: str | None) -> str:
    from storage.users import create_invite

    async with app.sessions() as db, db.begin():
        return (await create_invite(db, role, org)).code


async def test_typing_apply_after_details_starts_the_form_in_english(app, chat_en):
    await chat_en.say("i am looking for a nursing job")
    await chat_en.press("Details")
    assert "Employer:" in chat_en.last().text
    await chat_en.say("apply")
    assert "What would you like to tell the employer" in chat_en.last().text
    await chat_en.say("I am a registered nurse, call me on 0231 98765.")
    await chat_en.press("Yes, share my name")
    assert "Send it?" in chat_en.last().text
    await chat_en.say("yes")
    assert "Good luck" in chat_en.last().text
    async with app.sessions() as db:
        application = await db.scalar(select(Application))
    assert application is not None and application.applicant_name == "ben"


async def test_typing_a_label_shared_by_several_buttons_asks_which(chat_en):
    await chat_en.say("nursing jobs")
    await chat_en.say("apply")
    assert "Which one" in chat_en.last().text
    assert chat_en.labels() == ["1 Apply", "2 Apply", "3 Apply"]
    await chat_en.say("2")
    assert "Application for" in chat_en.turns[-1][0].text


async def test_a_shop_category_names_the_job_field(chat):
    await chat.say("gibt es jobs im supermarkt")
    assert "Einzelhandel" in chat.turns[-1][0].text


async def test_a_single_result_is_said_in_the_singular_without_a_page_count(chat, chat_en):
    await chat.say("teilzeit pflegejob in hörde")
    assert chat.last().text.startswith("Ich habe 1 offene Stelle gefunden")
    assert "Stellen 1" not in chat.last().text and len(page_items(chat.last())) == 1
    await chat_en.say("part-time nursing job in hörde")
    assert chat_en.last().text.startswith("I found 1 open position (")


async def test_search_words_that_find_nothing_are_said_before_the_other_results(chat, chat_en):
    await chat.say("ich suche einen job als astronaut")
    header = chat.last().text.split("\n")[0]
    assert header == "Zu „astronaut“ habe ich keine Stelle gefunden – hier ist, was sonst passt."
    assert "alle offenen Stellen" in chat.last().text and page_items(chat.last())
    await chat_en.say("pflegejobs in aplerbeck")
    text = chat_en.last().text
    assert text.startswith("Nothing matching in Aplerbeck right now – here are ")
    assert "(nursing):" in text  # the whole city's results: the district is not their query


async def test_words_that_only_rank_and_match_no_result_are_said_not_shown_as_criteria(chat_en):
    await chat_en.say("nursing astronaut jobs")  # with a field the words only rank
    header, found = chat_en.last().text.split("\n")[:2]
    assert header == "I found no position for “astronaut” – here is what else fits."
    assert found.endswith("(nursing):")
    await chat_en.say("pflegejobs station")  # a word some results contain: a criterion shown
    assert chat_en.last().text.split("\n")[0].endswith("(nursing · “station”):")


async def test_the_talk_around_a_search_is_no_search_word(chat, chat_en):
    await chat.say(
        "Hallo, ich wollte mal fragen ob es bei Ihnen auch Stellen im Lager gibt, "
        "am liebsten in Hörde"
    )
    header = chat.last().text.split("\n")[0]
    assert header.endswith("(Lager & Logistik):") and "„" not in header
    await chat_en.say("hi, I was wondering if there are any nursing jobs")
    assert chat_en.last().text.split("\n")[0].endswith("(nursing):")


async def test_choice_buttons_start_upper_case_in_english_too(chat_en):
    await chat_en.say("let me know about new jobs")
    labels = chat_en.labels()
    assert "Nursing" in labels and "Warehouse & logistics" in labels, labels
    assert all(label[:1].isupper() or not label[:1].isalpha() for label in labels)


async def test_alert_me_under_a_search_without_a_field_asks_the_field(app, chat):
    from storage.jobs import JobAlert

    await chat.say("stellen in der sozialarbeit")  # no such field: all open positions shown
    await chat.press("Benachrichtige mich")  # before: saved at once for every new job
    assert "Für welchen Bereich" in chat.last().text
    async with app.sessions() as db:
        assert await db.scalar(select(JobAlert.id)) is None
    await chat.press("Pflege")
    await chat.press("Einmal täglich")
    assert "Gespeichert" in chat.last().text and "Pflege" in chat.last().text
