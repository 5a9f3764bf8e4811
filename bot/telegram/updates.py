"""Telegram updates as Incoming events.

Event ids make redeliveries harmless: a message is (chat, message id), a button press is
(chat, pressed message) – so an old keyboard can be used once; on a list page (bot/listing.py)
(chat, pressed message, button), so each of its buttons can be used once – and a payment is
its Telegram charge id.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardMarkup, Message, MessageEntity, Update

from bot.listing import item_number
from bot.messages import Incoming, Payment

PLATFORM = "telegram"
GROUP_TYPES = ("group", "supergroup")


def is_list_page(markup: InlineKeyboardMarkup | None) -> bool:
    """Whether a keyboard is a list page's (its items' buttons are numbered: '2 Details')."""
    if markup is None:
        return False
    return any(item_number(b.text) is not None for row in markup.inline_keyboard for b in row)


def _callback(update: Update) -> Incoming | None:
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return None
    chat = query.message.chat
    event_id = f"cb:{chat.id}:{query.message.message_id}"
    if isinstance(query.message, Message) and is_list_page(query.message.reply_markup):
        event_id += f":{query.data}"  # "1 Details" and then "2 Details" of one page
    return Incoming(
        platform=PLATFORM,
        chat_id=str(chat.id),
        user_id=str(query.from_user.id),
        event_id=event_id,
        kind="button",
        payload=query.data,
        locale=query.from_user.language_code,
        display_name=query.from_user.first_name,
        is_group=chat.type in GROUP_TYPES,
    )


def _pre_checkout(update: Update) -> Incoming | None:
    query = update.pre_checkout_query
    if query is None:
        return None
    return Incoming(
        platform=PLATFORM,
        chat_id=str(query.from_user.id),
        user_id=str(query.from_user.id),
        event_id=f"pcq:{query.id}",
        kind="pre_checkout",
        locale=query.from_user.language_code,
        display_name=query.from_user.first_name,
        payment=Payment(query.invoice_payload, query.total_amount, query.currency),
    )


def _command(message: Message, text: str, username: str) -> str | None:
    """'/cmd@bot args' -> '/cmd args'; None when the command is for another bot."""
    first = next(iter(message.entities), None)
    if first is None or first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    head = message.parse_entity(first)
    name, _, target = head.partition("@")
    if target and target.lower() != username.lower():
        return ""
    return name + text[len(head) :]


def _addressed(message: Message, text: str, username: str, bot_id: int) -> tuple[bool, str]:
    """Whether a group message is for the bot (mention or reply to it); text without mention."""
    mention = re.compile(rf"@{re.escape(username)}\b", re.IGNORECASE) if username else None
    if mention is not None and mention.search(text):
        return True, " ".join(mention.sub(" ", text).split())
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True, text
    return False, text


def to_incoming(update: Update, username: str, bot_id: int) -> Incoming | None:
    """The event of an update, or None if citybot does not handle it."""
    for convert in (_callback, _pre_checkout):
        incoming = convert(update)
        if incoming is not None:
            return incoming
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None
    chat, user = message.chat, message.from_user
    is_group = chat.type in GROUP_TYPES
    if chat.type not in ("private", *GROUP_TYPES):
        return None
    common = {
        "platform": PLATFORM,
        "chat_id": str(chat.id),
        "user_id": str(user.id),
        "locale": user.language_code,
        "display_name": user.first_name,
        "is_group": is_group,
    }
    paid = message.successful_payment
    if paid is not None:
        return Incoming(
            **common,
            event_id=f"paid:{paid.telegram_payment_charge_id}",
            kind="payment",
            payment=Payment(
                paid.invoice_payload,
                paid.total_amount,
                paid.currency,
                paid.telegram_payment_charge_id,
                paid.provider_payment_charge_id,
            ),
        )
    event_id = f"m:{chat.id}:{message.message_id}"
    text = message.text
    if text is None and message.photo:  # the transport downloads the photo into .image
        caption = message.caption or ""
        addressed, caption = (
            _addressed(message, caption, username, bot_id) if is_group else (True, caption)
        )
        return Incoming(**common, event_id=event_id, text=caption, addressed=addressed)
    if text is None:
        return None if is_group else Incoming(**common, event_id=event_id, text="")
    command = _command(message, text, username)
    if command == "":
        return None
    if command is not None:
        return Incoming(**common, event_id=event_id, kind="command", text=command)
    addressed, text = _addressed(message, text, username, bot_id) if is_group else (True, text)
    return Incoming(**common, event_id=event_id, text=text, addressed=addressed)
