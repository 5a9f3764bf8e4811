"""Buying a voucher on Telegram with an invoice, through the fake Bot API (payment redelivered)."""

from __future__ import annotations

import copy
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from bot.app import App, create_app
from nlu import EmbeddedNLU
from storage import vouchers
from storage.shops import shop_by_key
from storage.vouchers import LedgerEntry
from tests.conftest import make_config
from tests.test_telegram_e2e import Telegram, new_user

PROVIDER = "284685063:TEST:provider"


@pytest.fixture
async def pay_app(tmp_path: Path, nlu_model: EmbeddedNLU) -> AsyncIterator[App]:
    """citybot with Telegram payments configured."""
    config = make_config(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'citybot.db'}",
        telegram={"token": "123:ABC", "payments": {"provider_token": PROVIDER}},
    )
    application = await create_app(config, nlu=nlu_model)
    yield application
    await application.close()


@pytest.mark.parametrize(
    ("mode", "language", "order", "confirm", "word"),
    [
        ("polling", "de", "ich möchte einen gutschein über 25 euro für café rosa", "Bestätigen",
         "gilt jetzt"),
        ("webhook", "en", "buy a 25 euro voucher for Café Rosa", "Confirm", "valid now"),
    ],
)
async def test_invoice_paid_once_activates_the_voucher_and_sends_code_and_qr(
    pay_app: App, fake: Any, mode, language, order, confirm, word
) -> None:
    tg = Telegram(pay_app, fake, mode)
    await tg.start()
    try:
        anna = new_user(language)
        summary = await tg.say(anna, order)
        invoice_turn = await tg.press(anna, summary[-1], confirm)
        assert [s.method for s in invoice_turn] == ["sendMessage", "sendInvoice"]
        invoice = invoice_turn[-1]
        assert invoice.message["invoice"]["total_amount"] == 2500
        assert invoice.message["invoice"]["currency"] == "EUR"

        query = await fake.pre_checkout(anna, invoice)
        assert await fake.wait_for(lambda: query in fake.pre_checkout_answers)
        assert fake.pre_checkout_answers[query]["ok"] is True

        paid = fake.payment_update(anna, invoice, "charge-77")
        sent = await tg.deliver(paid)
        text = " ".join(s.text for s in sent)
        assert word in text
        code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}", text).group(0)
        photos = [s for s in sent if s.method == "sendPhoto"]
        assert photos, [s.method for s in sent]

        twice = copy.deepcopy(paid) if mode == "webhook" else {"message": paid["message"]}
        assert await tg.deliver(twice) == []

        async with pay_app.sessions() as db:
            voucher = await vouchers.by_code(db, code.replace("-", ""))
            assert voucher is not None and voucher.state == "active"
            assert await vouchers.balance(db, voucher.id) == 2500
            payments = await db.scalar(
                select(func.count())
                .select_from(LedgerEntry)
                .where(LedgerEntry.voucher_id == voucher.id, LedgerEntry.kind == "payment")
            )
        assert payments == 1

        again = await fake.pre_checkout(anna, invoice)
        assert await fake.wait_for(lambda: again in fake.pre_checkout_answers)
        assert fake.pre_checkout_answers[again]["ok"] is False
    finally:
        await tg.stop()


async def test_the_same_payment_handled_twice_is_recorded_once(pay_app: App) -> None:
    """Exactly once also past the event-id dedup: the charge id is unique in the ledger."""
    from dataclasses import replace

    from bot.messages import Incoming, Payment

    async with pay_app.sessions() as db, db.begin():
        shop = await shop_by_key(db, "cafe-rosa")
        voucher = await vouchers.reserve(db, shop, None, 1000, payment=vouchers.INVOICE)
    base = Incoming(
        platform="telegram",
        chat_id="5",
        user_id="5",
        event_id="pay-1",
        kind="payment",
        payment=Payment(f"voucher:{voucher.id}", 1000, "EUR", charge_id="charge-1"),
    )
    first = await pay_app.dispatcher.handle(base)
    second = await pay_app.dispatcher.handle(replace(base, event_id="pay-2"))
    assert first and first[0].image is not None and second == []
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(first[0].image.content)))
    assert decoded[0].text == vouchers.format_code(voucher.code)
