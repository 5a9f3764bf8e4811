"""Shops in the console, German and English: finding shops, the card, following, owners."""

from __future__ import annotations

import io
import uuid
from datetime import datetime
from functools import partial

import pytest
from PIL import Image
from sqlalchemy import func, select, update

import handlers.shops as cards
from bot.cli import console_inbox
from bot.console import PLATFORM, ConsoleTransport
from bot.messages import Attachment, Incoming
from bot.public_holidays import holiday_name
from storage import outbox
from storage.demo import load_demo
from storage.shop_updates import SENT, ShopFollower, ShopUpdate
from storage.shops import Shop, name_order, shop_by_key
from storage.users import create_invite
from tests.conftest import page_items
from tests.personas import signed

BERLIN = "Europe/Berlin"


def _png(width: int = 2000, height: int = 1000) -> bytes:
    """A real PNG photo, larger than an update's photo may be."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


PNG = _png()


@pytest.fixture(autouse=True)
def tuesday_morning(monkeypatch):
    """The city's clock: Tuesday 1 December 2026, 10:00 (shops' hours are deterministic)."""
    from zoneinfo import ZoneInfo

    fixed = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo(BERLIN))
    monkeypatch.setattr(cards, "now_in_city", lambda ctx: fixed)
    return fixed


async def _shop(app, key: str) -> Shop:
    async with app.sessions() as db:
        shop = await shop_by_key(db, key)
        assert shop is not None
        return shop


async def _owner(app, chat_factory, key: str = "cafe-rosa", name: str = "rosa", lang: str = "de"):
    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "shop_owner", key)).code
    owner = chat_factory(name, lang)
    await owner.say(f"/language {lang}")
    await owner.say(f"/claim {code}")
    return owner


async def _followers(app, key: str) -> int:
    shop = await _shop(app, key)
    async with app.sessions() as db:
        count = await db.scalar(
            select(func.count()).select_from(ShopFollower).where(ShopFollower.shop_id == shop.id)
        )
        return int(count or 0)


# --- finding shops and the card --------------------------------------------------------


async def test_shop_by_name_shows_its_card_with_todays_hours_and_buttons(chat):
    await chat.say("hat die bäckerei müller heute offen")
    text = chat.last().text
    assert "Bäckerei Müller – Bäckerei" in text
    assert "Hermannstraße 48" in text
    assert "Heute 06:30–18:00 · jetzt geöffnet" in text
    assert "Lieferung: nein" in text
    assert "Neu (" in text and "Dinkel-Vollkornbrot" in text, "the latest demo update"
    assert chat.labels() == [
        "Folgen",
        "Gutschein kaufen",
        "Laden unterstützen",
        "Wegbeschreibung",
    ]
    payloads = [b.payload for b in chat.last().buttons]
    shop_id = int(payloads[0].split(":")[1])
    assert payloads[1:3] == [f"voucher.buy:{shop_id}", f"voucher.donate:{shop_id}"]


async def test_closed_day_and_english_card(chat_en, monkeypatch, tuesday_morning):
    monday = tuesday_morning.replace(day=30, month=11)
    monkeypatch.setattr(cards, "now_in_city", lambda ctx: monday)
    await chat_en.say("is Radwerk Hombruch open today")
    text = chat_en.last().text
    assert "Radwerk Hombruch – Bike shop" in text
    assert "Closed today" in text
    assert "Follow" in chat_en.labels() and "Directions" in chat_en.labels()


async def test_shop_without_vouchers_has_no_voucher_buttons(chat):
    await chat.say("/start shop-kastanien-apotheke")
    assert "Kastanien-Apotheke" in chat.last().text
    assert "Gutschein kaufen" not in chat.labels()
    assert "Laden unterstützen" not in chat.labels()


async def test_several_matches_are_one_numbered_message_with_one_keyboard(chat):
    await chat.say("welche restaurants liefern")
    replies = chat.turns[-1]
    assert len(replies) == 1
    text = replies[0].text
    assert "1. " in text and "2. " in text
    assert "Trattoria Da Enzo" in text and "Grillhaus Borsigplatz" in text
    assert chat.labels()[:2] == ["1 Details", "2 Details"]
    await chat.press("2 Details")
    assert "Restaurant" in chat.last().text and "Wegbeschreibung" in chat.labels()


async def test_category_in_a_district_widens_when_none_is_there(chat_en):
    await chat_en.say("bike shops in hörde")
    text = chat_en.last().text
    assert "Nothing in Hörde" in text
    assert "Radwerk Hombruch" in text
    assert chat_en.labels() == ["1 Details"]


async def test_delivery_filter_leaves_out_shops_that_do_not_deliver(chat):
    await chat.say("welche bäckereien liefern")
    assert "Keine Läden gefunden" in chat.last().text and "mit Lieferung" in chat.last().text


async def test_directions_give_a_map_link_and_a_venue(chat):
    await chat.say("/start shop-cafe-rosa")
    await chat.press("Wegbeschreibung")
    reply = chat.last()
    assert "https://www.openstreetmap.org/search?query=Arneckestra%C3%9Fe+12" in reply.text
    assert reply.venue is not None and reply.venue.title == "Café Rosa"
    assert 51.3 < reply.venue.latitude < 51.7
    assert "geo:51.5" in chat.text(), "the console shows the venue as a geo: line"


async def test_deep_link_of_an_unknown_shop_is_answered(chat):
    await chat.say("/start shop-gibts-nicht")
    assert "gibt es nicht" in chat.last().text


# --- following -------------------------------------------------------------------------


async def test_follow_and_unfollow_by_command_german(app, chat):
    await chat.say("/follow cafe rosa")
    assert "Du folgst jetzt Café Rosa" in chat.last().text
    assert chat.labels() == ["Entfolgen"]
    await chat.say("/follow Café Rosa")
    assert "schon" in chat.last().text
    assert await _followers(app, "cafe-rosa") == 1
    await chat.say("/following")
    assert "1. Café Rosa" in chat.last().text and chat.labels() == ["1 Entfolgen"]
    await chat.say("/unfollow rosa")
    assert "keine Updates mehr von Café Rosa" in chat.last().text
    assert await _followers(app, "cafe-rosa") == 0
    await chat.say("/following")
    assert "noch keinem Laden" in chat.last().text


async def test_follow_in_words_english_and_the_card_button_changes(app, chat_en):
    await chat_en.say("follow Café Rosa")
    assert "You now follow Café Rosa" in chat_en.last().text
    await chat_en.say("/start shop-cafe-rosa")
    assert chat_en.labels()[0] == "Unfollow"
    await chat_en.say("unfollow cafe rosa")
    assert "won't get updates from Café Rosa" in chat_en.last().text
    assert await _followers(app, "cafe-rosa") == 0


async def test_follow_from_the_card_and_stale_unfollow_button(app, chat):
    await chat.say("/start shop-buchhandlung-am-markt")
    await chat.press("Folgen")
    assert "Du folgst jetzt Buchhandlung am Markt" in chat.last().text
    await chat.press("Entfolgen")
    assert "keine Updates mehr" in chat.last().text
    shop = await _shop(app, "buchhandlung-am-markt")
    await chat.say(f"/start shop-{shop.key}")
    await chat.say("/unfollow Buchhandlung am Markt")
    assert "Du folgst Buchhandlung am Markt nicht" in chat.last().text


async def test_unknown_shop_suggests_the_closest_names(chat, chat_en):
    await chat.say("/follow Metzgerei Schulte")
    text = chat.last().text
    assert "Einen Laden „Metzgerei Schulte“ kenne ich nicht" in text
    assert "1. " in text and chat.labels() == ["1 Details", "2 Details", "3 Details"]
    await chat_en.say("/follow Trattoria Da Enzo")
    assert "You now follow Trattoria Da Enzo" in chat_en.last().text, "fuzzy, without the dash"
    await chat_en.say("/unfollow Pizzeria Napoli")
    assert "Did you mean" in chat_en.last().text


async def test_following_is_a_private_route():
    from bot.registry import registry

    assert registry.commands["following"].private


async def test_follow_without_a_name_explains_how(chat):
    await chat.say("/follow")
    assert "/follow Café Rosa" in chat.last().text


# --- owners: the card ------------------------------------------------------------------


async def test_citizen_cannot_open_myshop(chat):
    await chat.say("/myshop")
    assert "Ladeninhaber" in chat.last().text or "shop owner" in chat.last().text.lower()


async def test_owner_edits_hours_notice_description_and_flags(app, chat_factory, chat):
    owner = await _owner(app, chat_factory)
    await owner.say("/myshop")
    assert "Café Rosa – so sieht deine Karte aus" in owner.last().text
    await owner.press("Öffnungszeiten")
    await owner.press("Montag bis Freitag")
    await owner.say("9 bis 17 uhr")
    assert "Gespeichert" in owner.turns[-1][0].text
    await owner.press("Öffnungszeiten")
    await owner.press("Samstag")
    await owner.say("19-9")
    assert "Öffnungszeit" in owner.turns[-1][0].text, "a span that ends before it starts"
    await owner.say("geschlossen")
    await owner.press("Hinweis")
    await owner.say("Bis 15. Dezember nur Außer-Haus-Verkauf")
    await owner.press("Beschreibung")
    await owner.say("Kleines Café mit selbstgebackenem Kuchen.")
    await owner.press("Abholung an")
    assert "Abholung: ja" in owner.last().text
    shop = await _shop(app, "cafe-rosa")
    assert shop.opening_hours["tu"] == "09:00-17:00"
    assert shop.opening_hours["sa"] is None
    assert shop.notice == "Bis 15. Dezember nur Außer-Haus-Verkauf"
    assert shop.pickup is True
    await chat.say("/start shop-cafe-rosa")
    text = chat.last().text
    assert "Heute 09:00–17:00" in text and "Außer-Haus-Verkauf" in text
    assert "selbstgebackenem Kuchen" in text


async def test_stale_flag_button_changes_nothing(app, chat_factory):
    owner = await _owner(app, chat_factory)
    await owner.say("/myshop")
    stale = next(b for b in owner.last().buttons if b.label == "Lieferung aus")
    await owner.press("Lieferung aus")
    assert (await _shop(app, "cafe-rosa")).delivers is False
    assert "Lieferung an" in owner.labels()
    replies = await app.dispatcher.handle(
        Incoming(
            platform=PLATFORM,
            chat_id="rosa",
            user_id="rosa",
            event_id=uuid.uuid4().hex,
            kind="button",
            payload=signed(app, "rosa", stale.payload),
        )
    )
    assert "schon so eingestellt" in replies[0].text
    assert (await _shop(app, "cafe-rosa")).delivers is False


async def test_owner_of_another_shop_cannot_edit_this_one(app, chat_factory):
    owner = await _owner(app, chat_factory, "radwerk-hombruch", "radwerk")
    rosa = await _shop(app, "cafe-rosa")
    for data in (f"shop.set:{rosa.id}:d:0", f"shop.edit:{rosa.id}:desc", f"shop.update:{rosa.id}"):
        replies = await app.dispatcher.handle(
            Incoming(
                platform=PLATFORM,
                chat_id="radwerk",
                user_id="radwerk",
                event_id=uuid.uuid4().hex,
                kind="button",
                payload=signed(app, "radwerk", data),
            )
        )
        assert "Ladeninhaber" in replies[0].text
    assert (await _shop(app, "cafe-rosa")).delivers is True
    assert owner is not None


async def test_owner_sets_the_voucher_offer_english(app, chat_factory):
    owner = await _owner(app, chat_factory, lang="en", name="rosa_en")
    await owner.say("/myshop")
    await owner.press("Voucher amounts")
    await owner.say("5-100")
    await owner.say("10 25 500")
    assert "€500 is not between €5 and €100" in owner.turns[-1][0].text
    await owner.say("10 25 12.50")
    assert "€10, €12.50, €25" in owner.last().text
    await owner.press("Confirm")
    shop = await _shop(app, "cafe-rosa")
    assert shop.voucher_amounts == [1000, 1250, 2500]
    assert (shop.voucher_min_cents, shop.voucher_max_cents) == (500, 10000)
    await owner.press("Stop selling vouchers")
    assert (await _shop(app, "cafe-rosa")).sells_vouchers is False


async def test_cancel_leaves_the_card_unchanged(app, chat_factory):
    owner = await _owner(app, chat_factory)
    await owner.say("/myshop")
    await owner.press("Beschreibung")
    await owner.say("abbrechen")
    assert "abgebrochen" in owner.turns[-1][0].text.lower()
    assert (await _shop(app, "cafe-rosa")).description == ""


# --- owners: updates -------------------------------------------------------------------


async def _follow(chat_factory, name: str, lang: str, shop: str = "/follow Café Rosa"):
    citizen = chat_factory(name, lang)
    await citizen.say(f"/language {lang}")
    await citizen.say(shop)
    return citizen


async def _rows(app, update_id: int) -> list[outbox.OutboxMessage]:
    async with app.sessions() as db:
        rows = await db.scalars(
            select(outbox.OutboxMessage).where(
                outbox.OutboxMessage.dedup_key.like(f"shopupd:{update_id}:%")
            )
        )
        return list(rows)


async def _last_update(app) -> ShopUpdate:
    async with app.sessions() as db:
        found = await db.scalar(
            select(ShopUpdate)
            .where(ShopUpdate.demo.is_(False), ShopUpdate.status == SENT)
            .order_by(ShopUpdate.id.desc())
        )
        assert found is not None
        return found


async def test_update_in_words_preview_confirm_and_delivery_counts(app, chat_factory):
    await _follow(chat_factory, "fan_de", "de")
    await _follow(chat_factory, "fan_en", "en")
    owner = await _owner(app, chat_factory)
    await owner.say("an alle: ab morgen liefern wir auch")
    assert "Foto" in owner.last().text
    await owner.say("ohne")
    preview = owner.last().text
    assert "📣 Café Rosa: ab morgen liefern wir auch" in preview
    assert "an 2 Follower" in preview
    await owner.press("Bestätigen")
    assert "2 Follower" in owner.last().text and "heute 1 von 3" in owner.last().text
    sent = await _last_update(app)
    rows = await _rows(app, sent.id)
    assert len(rows) == 2 and all(r.priority == outbox.BROADCAST for r in rows)
    english = next(r for r in rows if r.recipient == "fan_en")
    replies = outbox.deserialise(english.payload)
    assert replies[0].text == "📣 Café Rosa: ab morgen liefern wir auch"
    assert [b.label for b in replies[0].buttons] == ["Unfollow"]
    async with app.sessions() as db, db.begin():
        await db.execute(
            update(outbox.OutboxMessage)
            .where(outbox.OutboxMessage.id == english.id)
            .values(status=outbox.SENT)
        )
    await owner.say("/update")
    status = owner.turns[-1][0].text
    assert "ab morgen liefern wir auch" in status
    assert "zugestellt 1, fehlgeschlagen 0, ausstehend 1" in status
    await owner.say("abbrechen")


async def test_unfollow_button_under_an_update_works_once(app, chat_factory):
    fan = await _follow(chat_factory, "fan", "en")
    owner = await _owner(app, chat_factory, lang="en", name="rosa_en")
    await owner.say("/update We reopen on monday")
    await owner.say("without")
    await owner.press("Confirm")
    row = (await _rows(app, (await _last_update(app)).id))[0]
    payload = outbox.deserialise(row.payload)[0].buttons[0].payload
    for expected in ("won't get updates", "don't follow"):
        replies = await app.dispatcher.handle(
            Incoming(
                platform=PLATFORM,
                chat_id="fan",
                user_id="fan",
                event_id=uuid.uuid4().hex,
                kind="button",
                payload=signed(app, "fan", payload),
            )
        )
        assert expected in replies[0].text
    assert fan is not None


async def test_update_with_a_photo_from_the_console_dispatcher(app, chat_factory):
    await _follow(chat_factory, "fan", "de")
    owner = await _owner(app, chat_factory)
    await owner.say("/update")
    assert "Was möchtest du deinen Followern schreiben" in owner.last().text
    await owner.say("Frische Waffeln ab 14 Uhr!")
    replies = await app.dispatcher.handle(
        Incoming(
            platform=PLATFORM,
            chat_id="rosa",
            user_id="rosa",
            event_id=uuid.uuid4().hex,
            text="",
            image=Attachment("waffeln.png", PNG, "image/png"),
        )
    )
    assert "(mit Foto)" in replies[-1].text
    await owner.say("ja")
    sent = await _last_update(app)
    assert sent.photo is not None and sent.photo_mime == "image/jpeg"
    with Image.open(io.BytesIO(sent.photo)) as shrunk:
        assert shrunk.format == "JPEG" and shrunk.size == (1280, 640), "at most 1280 px a side"
    reply = outbox.deserialise((await _rows(app, sent.id))[0].payload)[0]
    assert reply.image is not None and reply.image.content == sent.photo
    assert reply.text == "📣 Café Rosa: Frische Waffeln ab 14 Uhr!"


async def test_a_file_that_is_no_image_is_refused(app, chat_factory):
    owner = await _owner(app, chat_factory)
    await owner.say("/update Frische Waffeln")
    replies = await app.dispatcher.handle(
        Incoming(
            platform=PLATFORM,
            chat_id="rosa",
            user_id="rosa",
            event_id=uuid.uuid4().hex,
            image=Attachment("kaputt.jpg", b"\xff\xd8 not really a jpeg", "image/jpeg"),
        )
    )
    assert "Bildformat" in replies[0].text
    assert "Foto" in replies[-1].text, "the photo question again"
    await owner.say("ohne")
    assert "Vorschau" in owner.last().text


async def test_a_photo_at_the_preview_asks_to_confirm(app, chat_factory):
    owner = await _owner(app, chat_factory)
    await owner.say("/update Frische Waffeln")
    await owner.say("ohne")
    replies = await app.dispatcher.handle(
        Incoming(
            platform=PLATFORM,
            chat_id="rosa",
            user_id="rosa",
            event_id=uuid.uuid4().hex,
            image=Attachment("spät.png", PNG, "image/png"),
        )
    )
    assert [b.label for b in replies[-1].buttons] == ["Bestätigen", "Abbrechen"]


async def test_photo_outside_a_form_is_not_an_update(app):
    replies = await app.dispatcher.handle(
        Incoming(
            platform=PLATFORM,
            chat_id="x",
            user_id="x",
            event_id=uuid.uuid4().hex,
            image=Attachment("a.png", PNG, "image/png"),
        )
    )
    assert len(replies) == 1 and replies[0].text


async def test_too_long_update_is_refused_and_asked_again(app, chat_factory):
    owner = await _owner(app, chat_factory)
    await owner.say("/update")
    await owner.say("x" * 1001)
    assert "zu lang (1001 Zeichen, höchstens 1000)" in owner.turns[-1][0].text
    assert "Was möchtest du" in owner.last().text
    await owner.say("abbrechen")
    await owner.say("/update " + "y" * 1200)
    text = "\n\n".join(r.text for r in owner.turns[-1])
    assert text.index("Neues Update für Café Rosa") < text.index("zu lang (1200 Zeichen")
    assert text.index("zu lang (1200 Zeichen") < text.index("Was möchtest du")  # right before


async def test_daily_limit_is_said_clearly(app, chat_factory):
    owner = await _owner(app, chat_factory)
    for number in range(3):
        await owner.say(f"/update Angebot Nummer {number + 1}")
        await owner.say("ohne")
        await owner.press("Bestätigen")
    await owner.say("/update noch eins")
    assert "heute schon 3 Updates gesendet" in owner.last().text
    async with app.sessions() as db:
        count = await db.scalar(
            select(func.count()).select_from(ShopUpdate).where(ShopUpdate.demo.is_(False))
        )
    assert count == 3


async def test_non_owner_cannot_send_updates(chat, chat_en):
    await chat.say("/update hallo alle")
    assert "Ladeninhaber" in chat.last().text
    await chat_en.say("/update hello")
    assert "shop owner" in chat_en.last().text.lower()


async def test_seeding_again_adds_nothing(app):
    async with app.sessions() as db, db.begin():
        counts = await load_demo(db)
    assert counts["shop_updates"] == 0
    async with app.sessions() as db:
        total = await db.scalar(select(func.count()).select_from(ShopUpdate))
        followers = await db.scalar(select(func.count()).select_from(ShopFollower))
        located = await db.scalar(
            select(func.count()).select_from(Shop).where(Shop.latitude.is_not(None))
        )
    assert total == 28 and followers == 0 and located == 14


# --- personal data ---------------------------------------------------------------------


async def test_following_is_exported_and_erased_with_the_user(app, chat, chat_factory):
    import json

    owner = await _owner(app, chat_factory)
    await chat.say("/follow Café Rosa")
    await chat.say("/mydata")
    data = json.loads(chat.last().file.content)
    assert [row["shop"] for row in data["shop_following"]] == ["Café Rosa"]
    await owner.say("/update Heute Waffeln")
    await owner.say("ohne")
    await owner.press("Bestätigen")
    await owner.say("/deletedata")
    await owner.press("Ja, alles löschen")
    await chat.say("/deletedata")
    await chat.press("Ja, alles löschen")
    assert await _followers(app, "cafe-rosa") == 0
    sent = await _last_update(app)
    assert sent.author_id is None and sent.text == "Heute Waffeln", "the shop's update stays"


async def test_every_shop_can_be_reached_page_by_page_in_alphabetical_order(app, chat):
    async with app.sessions() as db:
        names = list(await db.scalars(select(Shop.name)))
    assert len(names) > cards.LIST_LIMIT and "Bäckerei Müller" in names
    await chat.say("hallo")
    await chat.press("Läden in der Stadt")
    first = chat.last()
    items = page_items(first)
    assert sorted(items) == list(range(1, cards.LIST_LIMIT + 1))
    assert first.text.endswith(f"Läden 1–{cards.LIST_LIMIT} von {len(names)} – mit Kategorie"
                               " oder Stadtteil grenzt du ein.")
    await chat.say("mehr")
    rest = page_items(chat.last())
    assert sorted(rest) == list(range(cards.LIST_LIMIT + 1, len(names) + 1))
    assert "Mehr" not in chat.labels()
    shown = [text.split(" – ")[0] for text in [*items.values(), *rest.values()]]
    assert sorted(shown) == sorted(names) and len(set(shown)) == len(names)
    assert shown.index("Bäckerei Müller") < shown.index("Buchhandlung am Markt")
    assert shown == sorted(shown, key=name_order)
    await chat.say(str(len(names)))  # the last shop's number names it on the second page
    assert chat.last().text.startswith(shown[-1])


async def test_a_terminal_follower_sees_the_update_when_chatting_next_exactly_once(
    app, chat_factory, tmp_path
):
    await _follow(chat_factory, "fan_de", "de")
    owner = await _owner(app, chat_factory)
    await owner.say("/update Zimtschnecken frisch aus dem Ofen")
    await owner.say("ohne")
    await owner.press("Bestätigen")
    stdin, stdout = io.StringIO("hallo\n"), io.StringIO()
    terminal = ConsoleTransport(
        "fan_de", tmp_path, stdin=stdin, stdout=stdout,
        inbox=partial(console_inbox, app.sessions, "fan_de"),
    )
    await terminal.run(app.dispatcher.handle)
    shown = stdout.getvalue()
    assert shown.startswith("📣 Café Rosa: Zimtschnecken frisch aus dem Ofen\n\n")
    assert "Entfolgen" not in shown  # a button outside a turn could not be pressed here
    assert shown.count("Zimtschnecken") == 1 and "Jobs suchen" in shown  # then the greeting
    assert await console_inbox(app.sessions, "fan_de") == []  # shown once, marked sent
    assert await console_inbox(app.sessions, "rosa") == []  # another user's stay theirs
    [row] = await _rows(app, (await _last_update(app)).id)
    assert row.status == outbox.SENT and row.payload == []


async def test_an_owner_of_two_shops_picks_one_with_choose_buttons(app, chat_factory):
    owner = await _owner(app, chat_factory)
    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "shop_owner", "baeckerei-mueller")).code
    await owner.say(f"/claim {code}")
    await owner.say("/myshop")
    assert owner.labels() == ["1 Wählen", "2 Wählen"]
    items = page_items(owner.last())
    number = next(n for n, text in items.items() if text.startswith("Café Rosa"))
    await owner.say(str(number))
    assert owner.last().text.startswith("Café Rosa – so sieht deine Karte aus")


async def test_a_card_asked_for_another_day_shows_that_days_hours(app, chat):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from storage.shops import WEEKDAYS

    shop = await _shop(app, "cafe-rosa")
    tomorrow = datetime.now(ZoneInfo("Europe/Berlin")).date() + timedelta(days=1)
    await chat.say("hat café rosa morgen offen")
    text = chat.last().text
    holiday = holiday_name(tomorrow, "NW", "de")  # a public holiday keeps Sunday hours
    hours = (shop.opening_hours or {}).get("su" if holiday else WEEKDAYS[tomorrow.weekday()])
    shown = cards.shown_hours(hours) if hours else "geschlossen"
    assert f"{tomorrow.day}. " in text and f": {shown}" in text, text
    assert text.split("\n")[2].startswith("Heute")  # today's line stays


async def test_public_holiday_keeps_sunday_hours_on_card_list_and_asked_day(
    chat, chat_en, monkeypatch, tuesday_morning
):
    # Friday 25 December 2026 is a public holiday in NRW (city.state NW): shops keep their
    # Sunday hours – the bakery opens 07:30–11:00, the café (closed on Sundays) stays shut
    christmas = tuesday_morning.replace(day=25)
    monkeypatch.setattr(cards, "now_in_city", lambda ctx: christmas)
    await chat.say("hat die bäckerei müller heute offen")
    assert "Heute 07:30–11:00 (Erster Weihnachtstag: Sonntagszeiten) · jetzt geöffnet" in (
        chat.last().text
    )
    await chat.say("hat café rosa heute offen")
    assert "Heute geschlossen (Erster Weihnachtstag)" in chat.last().text
    await chat.say("welche läden haben jetzt offen")
    listed = chat.last().text
    assert "Bäckerei Müller" in listed and "Café Rosa" not in listed, listed
    await chat_en.say("is Bäckerei Müller open today")
    assert "Today 07:30–11:00 (Christmas Day: Sunday hours) · open now" in chat_en.last().text
    # asked ahead from Tuesday 1 December: the holiday is named on the asked day's line
    monkeypatch.setattr(cards, "now_in_city", lambda ctx: tuesday_morning)
    await chat.say("hat café rosa am 26.12. offen")
    assert "Samstag, 26. Dezember (Zweiter Weihnachtstag): geschlossen" in chat.last().text


async def test_owner_view_says_holidays_keep_sunday_hours(app, chat_factory):
    owner = await _owner(app, chat_factory)
    await owner.say("/myshop")
    assert "An Feiertagen gelten die Sonntagszeiten." in owner.last().text


async def test_shops_open_now_lists_only_open_ones(chat):
    await chat.say("welche läden haben jetzt offen")
    text = chat.last().text
    assert "jetzt geöffnet" in text.split("\n")[0]
    assert "gerade geschlossen" not in text
    assert all("jetzt geöffnet" in line for line in text.split("\n")[1:] if line[:1].isdigit())


async def test_unsubscribing_without_following_a_shop_points_to_job_alerts(app, chat, monkeypatch):
    from tests.test_route_origin import _read_as

    said = "ich will keine benachrichtigungen mehr"
    _read_as(app, monkeypatch, {said: ("unsubscribe_shop", 0.89)})
    await chat.say(said)  # before: "Du folgst noch keinem Laden."
    assert "/alerts" in chat.last().text
    await chat.say("/follow Café Rosa")
    await chat.say(said)  # following one: the list to unfollow
    assert "Café Rosa" in chat.last().text and "1 Entfolgen" in chat.labels()
