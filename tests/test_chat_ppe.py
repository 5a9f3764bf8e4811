"""PPE in the chat: requesters ask and follow, coordinators allocate, in German and English."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.messages import Reply
from handlers import ppe_input
from handlers.ppe_notify import send_summary
from storage import outbox, ppe
from storage.users import Identity, User
from tests.personas import role_chat

NUMBER = re.compile(r"PSA-\d{4}-(\d{4})")


@pytest.fixture
async def coordinator_en(app, chat_factory):
    """A PPE coordinator, English."""
    return await role_chat(app, chat_factory, "coord", "en", "ppe_coordinator")


def future(days: int) -> str:
    """A date some days ahead as 'dd.mm.yyyy'."""
    return (date.today() + timedelta(days=days)).strftime("%d.%m.%Y")


async def _requests(app) -> int:
    async with app.sessions() as db:
        return await db.scalar(select(func.count()).select_from(ppe.PPERequest))


async def _stock(app) -> dict[str, int]:
    async with app.sessions() as db:
        return await ppe.stock(db)


async def _outbox_texts(app, chat) -> list[str]:
    """The notification texts queued for the user behind a chat."""
    async with app.sessions() as db:
        user_id = await db.scalar(
            select(User.id).join(User.identities).where(Identity.external_id == chat.transport.user)
        )
        rows = await db.scalars(
            select(outbox.OutboxMessage)
            .where(outbox.OutboxMessage.user_id == user_id)
            .order_by(outbox.OutboxMessage.id)
        )
        return [r.text for row in rows for r in outbox.deserialise(row.payload)]


async def _submit(chat, message: str, urgency: str = "Normal") -> int:
    """Send a request message, answer the rest, confirm; returns the request id."""
    await chat.say(message)
    if "dringend" in chat.last().text.lower() or "urgent" in chat.last().text.lower():
        await chat.press(urgency)
    if "Notiz" in chat.last().text or "note" in chat.last().text:
        await chat.say("-")
    await chat.press("Bestätigen" if "Bestätigen" in chat.labels() else "Confirm")
    found = NUMBER.search(chat.last().text)
    assert found, chat.last().text
    return int(found.group(1))


# ---- requesters, German -------------------------------------------------------------------


async def test_one_message_fills_items_packs_and_date(app, feuerwehr):
    await feuerwehr.say("wir brauchen 200 ffp2 masken und 2 kartons handschuhe bis freitag")
    assert "Wie dringend" in feuerwehr.last().text, "items and date came from the message"
    await feuerwehr.press("Normal")
    assert "Notiz" in feuerwehr.last().text, "the remembered address is not asked again"
    await feuerwehr.say("Bitte an die Fahrzeughalle")
    summary = feuerwehr.last().text
    assert "200 FFP2-Masken" in summary
    assert "200 Handschuhe (2 Kartons à 100)" in summary
    assert "Feuerwache 1, Steinstraße 25" in summary and "Fahrzeughalle" in summary
    await feuerwehr.press("Bestätigen")
    assert re.search(r"eingegangen: PSA-\d{4}-\d{4}", feuerwehr.last().text)
    async with app.sessions() as db:
        request = (await ppe.requests_of(db, ["feuerwehr"], 1))[0]
    assert {(line.item, line.requested) for line in request.lines} == {
        ("ffp2_mask", 200),
        ("gloves", 200),
    }
    assert request.needed_by.weekday() == 4 and request.status == ppe.SUBMITTED


async def test_form_asks_the_rest_and_remembers_a_new_address(app, chat_factory, coordinator):
    sozial = await role_chat(app, chat_factory, "sozial", "de", "ppe_requester", "sozialamt")
    await sozial.say("/ppe")
    assert len(sozial.turns[-1]) == 1, "the first question is asked once"
    assert "Was brauchen Sie" in sozial.last().text
    await sozial.say("100 op-masken und 5 kartons visiere")
    assert "Bis wann" in sozial.last().text
    await sozial.say(future(5))
    await sozial.press("Dringend")
    assert "Wohin soll geliefert werden" in sozial.last().text
    await sozial.say("Rathaus, Friedensplatz 1, Raum 12")
    await sozial.say("-")
    assert "125 Visiere (5 Kartons à 25)" in sozial.last().text
    await sozial.press("Bestätigen")
    assert "PSA-" in sozial.last().text
    alerts = await _outbox_texts(app, coordinator)
    assert any("Dringende PSA-Anforderung" in text and "Sozialamt" in text for text in alerts)

    await sozial.say("/ppe 50 kittel")
    assert "Bis wann" in sozial.last().text
    await sozial.say(future(3))
    await sozial.press("Normal")
    assert "Notiz" in sozial.last().text, "the address was remembered"


async def test_bad_input_gets_clear_answers_and_changes_nothing(app, feuerwehr):
    before = await _requests(app)
    await feuerwehr.say("/ppe")
    await feuerwehr.say("klopapier")
    assert "nicht im Katalog" in feuerwehr.turns[-1][0].text
    assert "FFP2-Masken (Einheit: Stück, Karton à 20)" in feuerwehr.turns[-1][0].text
    await feuerwehr.say("0 masken")
    assert "Menge von 0" in feuerwehr.turns[-1][0].text
    await feuerwehr.say("-5 masken")
    assert "positiv" in feuerwehr.turns[-1][0].text
    await feuerwehr.say("5000 kartons handschuhe")
    assert "höchstens 1000 Kartons" in feuerwehr.turns[-1][0].text
    await feuerwehr.say("10 visiere")
    await feuerwehr.say("01.01.2020")
    assert "in der Vergangenheit" in feuerwehr.turns[-1][0].text
    days_ago = date.today() - timedelta(days=3)
    if days_ago.year == date.today().year:  # "bis 4.12." on 7 December: past, not next year
        await feuerwehr.say(days_ago.strftime("%-d.%-m."))
        assert "in der Vergangenheit" in feuerwehr.turns[-1][0].text
        assert days_ago.strftime("%d.%m.%Y") in feuerwehr.turns[-1][0].text
    await feuerwehr.say("abbrechen")
    assert "abgebrochen" in feuerwehr.last().text.lower()
    await feuerwehr.say("wir brauchen 100 rollen klopapier")
    assert "nicht im Katalog" in feuerwehr.turns[-1][0].text
    await feuerwehr.say("abbrechen")
    assert await _requests(app) == before


async def test_status_and_withdraw_then_the_stale_withdraw(app, feuerwehr):
    request_id = await _submit(feuerwehr, "wir brauchen 40 schutzkittel bis " + future(4))
    await feuerwehr.say("/ppestatus")
    assert len(feuerwehr.turns[-1]) == 1
    text = feuerwehr.last().text
    assert text.splitlines()[1].startswith("1. PSA-") and "eingereicht" in text
    await feuerwehr.press("1 Zurückziehen")
    assert "zurückgezogen" in feuerwehr.last().text
    await feuerwehr.say(f"/ppewithdraw {request_id}")
    assert "inzwischen zurückgezogen" in feuerwehr.last().text
    await feuerwehr.say("was ist mit meiner bestellung für masken")
    assert "zurückgezogen" in feuerwehr.last().text


async def test_another_departments_request_is_refused(app, feuerwehr):
    async with app.sessions() as db:
        other = (await ppe.requests_of(db, ["gesundheitsamt"], 1))[0]
    await feuerwehr.say(f"/ppewithdraw {other.number}")
    assert "gehört nicht zu Ihrer Abteilung" in feuerwehr.last().text
    async with app.sessions() as db:
        assert (await ppe.get_request(db, other.id)).status == other.status


async def test_citizens_and_requesters_are_refused_what_is_not_theirs(chat, feuerwehr):
    await chat.say("wir brauchen 200 ffp2 masken")
    assert "Schutzausrüstung anfordern" in chat.last().text and "/claim" in chat.last().text
    await chat.say("/ppestatus")
    assert "/claim" in chat.last().text
    await feuerwehr.say("/ppequeue")
    assert "PSA-Koordination" in feuerwehr.last().text


async def test_address_command_changes_the_remembered_address(app, feuerwehr):
    await feuerwehr.say("/ppeaddress ab")
    assert "5 bis 300 Zeichen" in feuerwehr.last().text
    await feuerwehr.say("/ppeaddress Feuerwache 2, Am Ufer 7")
    assert "gespeichert" in feuerwehr.last().text
    await feuerwehr.say("wir brauchen 20 schutzbrillen bis " + future(2))
    await feuerwehr.press("Normal")
    await feuerwehr.say("-")
    assert "Feuerwache 2, Am Ufer 7" in feuerwehr.last().text


# ---- coordinators, German -----------------------------------------------------------------


async def test_queue_is_one_message_by_priority_with_one_keyboard(coordinator):
    await coordinator.say("/ppequeue")
    assert len(coordinator.turns[-1]) == 1
    text = coordinator.last().text
    lines = [line for line in text.splitlines() if re.match(r"\d+\. ", line)]
    assert lines[0].startswith("1. ‼️") and "Gesundheitsamt" in lines[0], "urgent first"
    assert "[Bestand " in text
    first = re.search(r"PSA-\d{4}-(\d{4})", lines[0])
    assert first is not None  # the hint's example is the first request's number, not "1"
    number = int(first.group(1))
    assert f"({first.group(0)} → {number}): /ppeapprove {number} " in text
    assert coordinator.labels()[:2] == ["1 Details", "2 Details"]
    await coordinator.press("1 Details")
    assert "Dringlichkeit: Dringend" in coordinator.last().text
    assert coordinator.labels() == ["Alles genehmigen", "Teilweise zuteilen", "Ablehnen"]


async def test_queue_without_submitted_requests_says_so_above_the_approved(app, coordinator):
    async with app.sessions() as db, db.begin():
        for request in await ppe.open_requests(db, ppe.SUBMITTED):
            request.status = ppe.APPROVED
    await coordinator.say("/ppequeue")
    text = coordinator.last().text
    assert text.startswith("Keine offenen PSA-Anforderungen.\n") and "(0)" not in text
    assert "Genehmigt, Lieferung ausstehend" in text and coordinator.labels()[0].startswith("1 ")


async def test_a_quantity_after_its_item_is_taken(app, feuerwehr):
    await feuerwehr.say("wir brauchen dringend handschuhe, so 2 kartons bis freitag")
    await feuerwehr.say("-")
    assert "200 Handschuhe (2 Kartons à 100)" in feuerwehr.last().text


async def test_approve_by_button_notifies_and_a_stale_button_changes_nothing(
    app, coordinator, chat_factory, feuerwehr
):
    request_id = await _submit(feuerwehr, "wir brauchen 100 ffp2 masken bis " + future(3))
    second = await role_chat(app, chat_factory, "koord2", "de", "ppe_coordinator")
    stock_before = await _stock(app)
    for chat in (coordinator, second):
        await chat.say("/ppequeue")
        entries = [ln for ln in chat.last().text.splitlines() if re.match(r"\d+\. ", ln)]
        position = next(i for i, ln in enumerate(entries, 1) if f"-{request_id:04d}" in ln)
        await chat.press(f"{position} Details")
    await coordinator.press("Alles genehmigen")
    assert "vollständig genehmigt" in coordinator.last().text
    assert (await _stock(app))["ffp2_mask"] == stock_before["ffp2_mask"] - 100
    await second.press("Alles genehmigen")
    assert (
        "inzwischen genehmigt" in second.last().text
        and "Nichts wurde geändert" in second.last().text
    )
    assert (await _stock(app))["ffp2_mask"] == stock_before["ffp2_mask"] - 100
    notes = await _outbox_texts(app, feuerwehr)
    assert any("genehmigt" in text and "100/100 FFP2-Masken" in text for text in notes)


async def test_approve_more_than_requested_or_in_stock_is_refused_then_part(
    app, coordinator, feuerwehr
):
    request_id = await _submit(feuerwehr, "wir brauchen 60 kartons schutzbrillen bis " + future(6))
    stock = (await _stock(app))["goggles"]
    assert stock < 600
    await coordinator.say(f"/ppeapprove {request_id}")
    assert "Nicht genug Schutzbrillen" in coordinator.last().text
    await coordinator.say(f"/ppeapprove {request_id} goggles 700")
    assert "Mehr als angefordert (" in coordinator.last().text
    assert " Schutzbrillen) kann nicht zugeteilt werden" in coordinator.last().text
    await coordinator.say(f"/ppeapprove {request_id} gloves 10")
    assert "Diese Anforderung enthält keine Handschuhe" in coordinator.last().text
    await coordinator.say(f"/ppeapprove {request_id} klopapier 10")
    assert "nicht im Katalog" in coordinator.last().text
    await coordinator.say(f"/ppeapprove {request_id} goggles 0")
    assert "/ppereject" in coordinator.last().text
    assert (await _stock(app))["goggles"] == stock
    await coordinator.say(f"/ppeapprove PSA-2026-{request_id:04d} goggles 400")
    assert "teilweise genehmigt" in coordinator.last().text
    assert (await _stock(app))["goggles"] == stock - 400
    notes = await _outbox_texts(app, feuerwehr)
    assert any(
        "genehmigt (teilweise)" in text and "400/600 Schutzbrillen" in text for text in notes
    )
    await feuerwehr.say("/ppestatus")
    assert "400/600 Schutzbrillen" in feuerwehr.last().text


async def open_part_form(coordinator, request_id: int) -> None:
    """/ppequeue, the request's Details, "Teilweise zuteilen"."""
    await coordinator.say("/ppequeue")
    entries = [ln for ln in coordinator.last().text.splitlines() if re.match(r"\d+\. ", ln)]
    position = next(i for i, ln in enumerate(entries, 1) if f"-{request_id:04d}" in ln)
    await coordinator.press(f"{position} Details")
    await coordinator.press("Teilweise zuteilen")
    assert "Teilzuteilung" in coordinator.turns[-1][0].text


async def test_part_allocation_by_button(app, coordinator, feuerwehr):
    request_id = await _submit(
        feuerwehr, "wir brauchen 300 handschuhe und 20 kittel bis " + future(2)
    )
    await open_part_form(coordinator, request_id)
    await coordinator.say("gloves 5000")
    assert " Handschuhe) kann nicht zugeteilt werden" in coordinator.turns[-1][0].text
    assert "Wie viele Stück je Artikel" in coordinator.last().text
    await coordinator.say("gloves 150")
    assert "teilweise genehmigt" in coordinator.last().text
    assert (
        "150/300 Handschuhe" in coordinator.last().text
        and "0/20 Schutzkittel" in coordinator.last().text
    )


async def test_reject_with_reason_by_command_and_button(app, coordinator, feuerwehr):
    first = await _submit(feuerwehr, "wir brauchen 10 visiere bis " + future(2))
    second = await _submit(feuerwehr, "wir brauchen 12 desinfektionsmittel bis " + future(2))
    await coordinator.say(f"/ppereject {first}")
    assert "So geht's: /ppereject N GRUND" in coordinator.last().text
    await coordinator.say(f"/ppereject {first} Bestand wird für Kitas gebraucht")
    assert "abgelehnt" in coordinator.last().text
    await coordinator.say(f"/ppereject {first} nochmal")
    assert "inzwischen abgelehnt" in coordinator.last().text
    await coordinator.say("/ppequeue")
    entries = [ln for ln in coordinator.last().text.splitlines() if re.match(r"\d+\. ", ln)]
    position = next(i for i, ln in enumerate(entries, 1) if f"-{second:04d}" in ln)
    await coordinator.press(f"{position} Details")
    await coordinator.press("Ablehnen")
    assert "Begründung" in coordinator.last().text
    await coordinator.say("Bitte über das Gesundheitsamt bestellen")
    assert "abgelehnt" in coordinator.last().text
    await feuerwehr.say("/ppestatus")
    assert "Grund: Bitte über das Gesundheitsamt bestellen" in feuerwehr.last().text
    notes = await _outbox_texts(app, feuerwehr)
    assert any("Grund: Bestand wird für Kitas gebraucht" in text for text in notes)


async def test_delivered_only_after_approval(app, coordinator, feuerwehr):
    request_id = await _submit(feuerwehr, "wir brauchen 30 schutzkittel bis " + future(2))
    await coordinator.say(f"/ppedelivered {request_id}")
    assert "noch nicht genehmigt" in coordinator.last().text
    assert f"/ppeapprove {request_id})" in coordinator.last().text
    await coordinator.say(f"/ppeapprove {request_id}")
    await coordinator.say("/ppequeue")
    assert "Lieferung ausstehend" in coordinator.last().text
    await coordinator.say(f"/ppedelivered {request_id}")
    assert "als geliefert markiert" in coordinator.last().text
    await feuerwehr.say("/ppestatus")
    assert "geliefert · 30/30 Schutzkittel" in feuerwehr.last().text
    notes = await _outbox_texts(app, feuerwehr)
    assert sum("PSA-" in text for text in notes) == 2, "approved, then delivered"


async def test_supply_and_correction_with_bad_input(app, coordinator):
    stock = await _stock(app)
    await coordinator.say("/ppesupply face_shield 300 local_makers Fablab")
    assert "lokale Herstellung" in coordinator.last().text
    await coordinator.say("/ppesupply klopapier 3 donation")
    assert "nicht im Katalog" in coordinator.last().text
    await coordinator.say("/ppesupply gloves 0 purchase")
    assert "Menge von 0" in coordinator.last().text
    await coordinator.say("/ppesupply gloves -5 purchase")
    assert "positiv" in coordinator.last().text
    await coordinator.say("/ppesupply gloves 50 geklaut")
    assert "So geht's" in coordinator.last().text
    await coordinator.say("/ppesupply gloves 999999999 purchase")
    assert "höchstens 1000 Kartons" in coordinator.last().text
    await coordinator.say(f"/ppecorrect goggles -{stock['goggles'] + 1} Inventur")
    assert "nicht unter 0" in coordinator.last().text
    await coordinator.say("/ppecorrect gloves -200 Inventur")
    assert "Bestand jetzt" in coordinator.last().text
    after = await _stock(app)
    assert after["face_shield"] == stock["face_shield"] + 300
    assert after["gloves"] == stock["gloves"] - 200
    assert after["goggles"] == stock["goggles"]


async def test_low_stock_is_told_once_when_crossed(app, coordinator):
    stock = (await _stock(app))["goggles"]
    await coordinator.say(f"/ppecorrect goggles -{stock - 120} Inventur")
    await coordinator.say("/ppecorrect goggles -30 Bruch")
    await coordinator.say("/ppecorrect goggles -10 Bruch")
    low = [t for t in await _outbox_texts(app, coordinator) if "Bestand niedrig" in t]
    assert low == ["Bestand niedrig: Schutzbrillen nur noch 90 (Schwelle 100)."]
    await coordinator.say("/ppesupply goggles 500 donation")
    await coordinator.say("/ppecorrect goggles -550 Bruch")
    low = [t for t in await _outbox_texts(app, coordinator) if "Bestand niedrig" in t]
    assert len(low) == 2, "refilled and crossed again: told again"
    await coordinator.say("/ppesupply gloves 50000 purchase")
    gloves = (await _stock(app))["gloves"]
    threshold = app.config.ppe.low_stock["gloves"]
    assert threshold >= 1000
    await coordinator.say(f"/ppecorrect gloves -{gloves - 999} Inventur")
    low = [t for t in await _outbox_texts(app, coordinator) if "Handschuhe nur noch" in t]
    shown = f"{threshold:,}".replace(",", ".")
    assert low == [f"Bestand niedrig: Handschuhe nur noch 999 (Schwelle {shown})."]


async def test_report_in_the_chat_is_one_message_with_png_and_csv(coordinator):
    await coordinator.say("/ppereport")
    assert len(coordinator.turns[-1]) == 1
    reply: Reply = coordinator.last()
    assert reply.image.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert reply.file.content.decode().startswith("id,time_utc,item,quantity")


async def test_daily_summary_once_per_day_for_each_coordinator(app, coordinator, coordinator_en):
    async with app.sessions() as db, db.begin():
        assert await send_summary(db, app.config, "2026-12-04") == 2
        assert await send_summary(db, app.config, "2026-12-04") == 0
    assert any("PSA-Warteschlange heute" in t for t in await _outbox_texts(app, coordinator))
    assert any("PPE queue today" in t for t in await _outbox_texts(app, coordinator_en))


# ---- English ------------------------------------------------------------------------------


async def test_english_request_and_status(app, health_en):
    await health_en.say("we need 300 surgical masks and 2 boxes of gowns by " + future(4))
    assert "How urgent" in health_en.last().text
    await health_en.press("Urgent")
    await health_en.say("none")
    summary = health_en.last().text
    assert "300 surgical masks" in summary and "20 gowns (2 cartons of 10)" in summary
    assert "Urgency: Urgent" in summary
    await health_en.press("Confirm")
    assert "Your request has been received: PSA-" in health_en.last().text
    await health_en.say("status of my ppe request")
    assert "Your department's PPE requests" in health_en.last().text
    assert "submitted · 300 surgical masks, 20 gowns" in health_en.last().text


async def test_english_bad_input(app, health_en):
    before = await _requests(app)
    await health_en.say("/ppe")
    await health_en.say("toilet paper")
    assert "not in the catalogue" in health_en.turns[-1][0].text
    await health_en.say("0 gloves")
    assert "quantity of 0" in health_en.turns[-1][0].text
    await health_en.say("2000 boxes of gloves")
    assert "at most 1000 cartons" in health_en.turns[-1][0].text
    await health_en.say("200 gloves")
    await health_en.say("01.01.2020")
    assert "is in the past" in health_en.turns[-1][0].text
    await health_en.say("cancel")
    assert await _requests(app) == before


async def test_english_coordinator_flow(app, coordinator_en, health_en):
    request_id = await _submit(health_en, "we need 50 goggles by " + future(3))
    await coordinator_en.say("/ppequeue")
    assert "Open PPE requests by priority" in coordinator_en.last().text
    assert "[stock " in coordinator_en.last().text
    await coordinator_en.say(f"/ppeapprove {request_id} goggles 60")
    assert "more goggles than requested" in coordinator_en.last().text
    await coordinator_en.say(f"/ppeapprove {request_id} goggles 30")
    assert "approved in part" in coordinator_en.last().text
    await coordinator_en.say(f"/ppedelivered {request_id}")
    assert "marked delivered" in coordinator_en.last().text
    notes = await _outbox_texts(app, health_en)
    assert any("News about your PPE request" in t and "30/50 goggles" in t for t in notes)
    await coordinator_en.say(f"/ppereject {request_id} too late")
    assert "is now delivered" in coordinator_en.last().text
    await health_en.say(f"/ppewithdraw {request_id}")
    assert "is now delivered" in health_en.last().text


# ---- privacy, texts, schedule -------------------------------------------------------------


async def test_export_lists_my_requests_and_erasure_keeps_the_departments_request(app, feuerwehr):
    request_id = await _submit(feuerwehr, "wir brauchen 30 visiere bis " + future(2))
    await feuerwehr.say("welche daten habt ihr über mich")
    exported = feuerwehr.last().file.content.decode()
    assert f"PSA-{date.today().year}-{request_id:04d}" in exported
    await feuerwehr.say("/deletedata")
    await feuerwehr.press("Ja, alles löschen")
    async with app.sessions() as db:
        request = await ppe.get_request(db, request_id)
    assert request is not None and request.requested_by is None


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_item_state_source_and_urgency_has_a_text(language):
    from bot.i18n import catalog_keys

    keys = {f"ppe.item.{k}" for k in ppe.ITEMS} | {f"ppe.unit.{k}" for k in ppe.ITEMS}
    keys |= {f"ppe.source.{s}" for s in ppe.SOURCES} | {"ppe.urgency.normal", "ppe.urgency.urgent"}
    keys |= {f"ppe.state.{s}" for s in ("submitted", "approved", "rejected", "delivered")}
    keys |= {"ppe.state.withdrawn"}
    assert keys <= catalog_keys(language)


def test_daily_summary_is_a_recurring_job_at_the_configured_time(app):
    from bot.config import config_from_mapping
    from bot.scheduler import RECURRING

    job = RECURRING["ppe_queue_summary"]
    trigger = job.trigger(config_from_mapping({"ppe": {"summary_time": "06:45"}}))
    assert "hour='6'" in str(trigger) and "minute='45'" in str(trigger)
    assert (job.func.__module__, job.func.__qualname__) == ("handlers.ppe_notify", "daily_summary")


def test_date_in_reads_a_date_without_a_year_as_this_years_up_to_sixty_days_back():
    monday = date(2026, 12, 7)
    assert ppe_input.date_in("1.12.", [], monday) == date(2026, 12, 1)
    assert ppe_input.date_in("bis 12.1.", [], monday) == date(2027, 1, 12)
    assert ppe_input.date_in("1.12.26", [], monday) == date(2026, 12, 1)
    assert ppe_input.date_in("31.2.", [], monday) is None
