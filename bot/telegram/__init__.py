"""The Telegram transport: python-telegram-bot against the Bot API (or a city's own server)."""

import os

# PTB 22 warns that time periods (429 retry_after) become timedelta; opt in to that now.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.telegram.transport import TelegramTransport

__all__ = ["TelegramTransport"]
