"""Shops on Telegram through the fake Bot API: a photo update reaches followers, sendVenue."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlalchemy import select

from storage.shop_updates import ShopUpdate
from storage.users import create_invite
from tests.fake_bot_api import FakeBotAPI
from tests.test_telegram_e2e import Telegram, drain_all, new_user, tg

__all__ = ["tg"]  # the e2e harness's fixture, used here too (fake is in conftest)



def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1280, 960), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


JPEG = _jpeg()


async def _owner(tg: Telegram, language: str = "de") -> Any:
    async with tg.app.sessions() as db, db.begin():
        code = (await create_invite(db, "shop_owner", "cafe-rosa")).code
    owner = new_user(language, "Rosa")
    await tg.say(owner, f"/claim {code}")
    return owner


async def test_photo_update_reaches_followers_with_an_unfollow_button(tg: Telegram) -> None:
    fake: FakeBotAPI = tg.fake
    follower = new_user("de", "Fan")
    await tg.say(follower, "/follow Café Rosa")
    owner = await _owner(tg)
    asked = await tg.say(owner, "/update")
    assert "Was möchtest du deinen Followern schreiben" in asked[-1].text
    preview = await tg.deliver(fake.photo_update(owner, JPEG, caption="Neue Torten ab heute!"))
    assert "(mit Foto)" in preview[-1].text and "an 1 Follower" in preview[-1].text
    downloads = [params["path"] for method, params, _ in fake.calls if method == "download"]
    assert len(downloads) == 1, "only one size is downloaded"
    done = await tg.press(owner, preview[-1], "Bestätigen")
    assert "1 Follower" in done[-1].text
    assert tg.transport is not None
    await drain_all(tg.app, tg.transport)
    photos = [s for s in fake.sent_to(follower.id) if s.method == "sendPhoto"]
    assert len(photos) == 1
    assert photos[0].text == "📣 Café Rosa: Neue Torten ab heute!"
    assert [label for label, _ in photos[0].buttons] == ["Entfolgen"]
    async with tg.app.sessions() as db:
        update = await db.scalar(select(ShopUpdate).where(ShopUpdate.demo.is_(False)))
    assert update is not None and update.photo is not None
    with Image.open(io.BytesIO(update.photo)) as kept:
        assert kept.size == (1280, 960), "the full photo, not the thumbnail"
    uploaded = fake.methods("sendPhoto")[-1]["photo"]
    assert uploaded["size"] == len(update.photo)

    gone = await tg.press(follower, photos[0], "Entfolgen")
    assert "keine Updates mehr von Café Rosa" in gone[-1].text


async def test_directions_send_a_venue(tg: Telegram) -> None:
    anna = new_user("en")
    card = await tg.say(anna, "/start shop-cafe-rosa")
    assert "Café Rosa" in card[-1].text
    sent = await tg.press(anna, card[-1], "Directions")
    assert [s.method for s in sent] == ["sendMessage", "sendVenue"]
    assert "openstreetmap.org/search?query=" in sent[0].text
    venue = sent[1].message["venue"]
    assert venue["title"] == "Café Rosa" and venue["address"].startswith("Arneckestraße 12")
    assert 51.3 < venue["location"]["latitude"] < 51.7


async def test_a_photo_captioned_with_the_update_command_goes_straight_to_the_preview(
    tg: Telegram,
) -> None:
    owner = await _owner(tg, "en")
    sent = await tg.deliver(tg.fake.photo_update(owner, JPEG, caption="/update Fresh cakes!"))
    assert "📣 Café Rosa: Fresh cakes!" in sent[-1].text and "(with a photo)" in sent[-1].text
    assert [label for label, _ in sent[-1].buttons] == ["Confirm", "Cancel"]


async def test_photos_in_groups_not_for_the_bot_are_not_downloaded(tg: Telegram) -> None:
    group = tg.fake.group_chat(-1009876543210)
    await tg.deliver(tg.fake.photo_update(new_user("de"), JPEG, caption="Urlaub!", chat=group))
    assert not [c for c in tg.fake.calls if c[0] in ("getFile", "download")]
