"""PPE, round 38: the quantity after a size ("Größe L und 20 Kittel"), a letter size after an
item ("handschuhe L"), "so schnell wie möglich" / "ende nächster woche" at the needed-by step,
and coordinators told when an urgent request they were alerted to is withdrawn."""

from __future__ import annotations

from tests.test_chat_ppe import _outbox_texts, _submit, future

# ---- 1. sizes ------------------------------------------------------------------------------


async def test_the_quantity_after_a_size_is_kept(feuerwehr):
    await feuerwehr.say("/ppe")
    await feuerwehr.say("50 Handschuhe Größe L und 20 Kittel")
    text = feuerwehr.last().text
    assert "Wie viele" not in text and "Bis wann" in text, text
    await feuerwehr.say(future(4))
    await feuerwehr.press("Normal")
    assert "Größe L" in feuerwehr.last().text, feuerwehr.last().text
    await feuerwehr.say("-")
    summary = feuerwehr.last().text
    assert "50 Handschuhe" in summary and "20 Schutzkittel" in summary, summary


async def test_bottles_after_a_size_are_kept(feuerwehr):
    await feuerwehr.say("/ppe")
    await feuerwehr.say("50 Handschuhe Größe L und 3 Flaschen Desinfektionsmittel")
    assert "Bis wann" in feuerwehr.last().text, feuerwehr.last().text


async def test_a_letter_size_after_gloves_goes_to_the_note(feuerwehr):
    await feuerwehr.say("/ppe")
    await feuerwehr.say("100 FFP2 und 50 handschuhe L")
    await feuerwehr.say(future(4))
    await feuerwehr.press("Normal")
    text = feuerwehr.last().text
    assert "Größen (L)" in text, text


# ---- 2. the needed-by step ----------------------------------------------------------------


async def test_as_soon_as_possible_is_today_and_urgent(feuerwehr):
    await feuerwehr.say("/ppe")
    await feuerwehr.say("100 FFP2")
    await feuerwehr.say("so schnell wie möglich")
    text = feuerwehr.last().text
    assert "verstehe ich nicht" not in text and "Wie dringend" not in text, text
    await feuerwehr.say("-")
    summary = feuerwehr.last().text
    assert "Dringend" in summary, summary


async def test_asap_in_english(health_en):
    await health_en.say("/ppe")
    await health_en.say("100 FFP2 masks")
    await health_en.say("asap")
    assert "understand" not in health_en.last().text, health_en.last().text
    assert "How urgent" not in health_en.last().text, health_en.last().text


async def test_end_of_next_week_is_a_date(feuerwehr):
    await feuerwehr.say("/ppe")
    await feuerwehr.say("100 FFP2")
    await feuerwehr.say("ende nächster woche")
    text = feuerwehr.last().text
    assert "verstehe ich nicht" not in text and "Wie dringend" in text, text


# ---- 3. an urgent request withdrawn --------------------------------------------------------


async def test_coordinators_hear_an_urgent_request_is_withdrawn(app, coordinator, feuerwehr):
    request_id = await _submit(feuerwehr, "wir brauchen 30 schutzkittel bis " + future(3),
                               urgency="Dringend")
    assert any("Dringende PSA-Anforderung" in t for t in await _outbox_texts(app, coordinator))
    await feuerwehr.say(f"/ppewithdraw {request_id}")
    assert "zurückgezogen" in feuerwehr.last().text, feuerwehr.last().text
    told = [t for t in await _outbox_texts(app, coordinator) if "zurückgezogen" in t]
    assert len(told) == 1 and f"PSA-2026-{request_id:04d}" in told[0], told


async def test_a_withdrawn_normal_request_is_not_announced(app, coordinator, feuerwehr):
    request_id = await _submit(feuerwehr, "wir brauchen 30 schutzkittel bis " + future(3))
    await feuerwehr.say(f"/ppewithdraw {request_id}")
    assert not [t for t in await _outbox_texts(app, coordinator) if "zurückgezogen" in t]
