"""Transport-neutral message types: what comes in from a platform and what goes out."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from bot.buttons import MAX_PAYLOAD

CAPTION_LIMIT = 1024  # the shortest caption a platform allows (Telegram's), for coalesce

Kind = Literal["text", "command", "button", "pre_checkout", "payment"]


@dataclass(frozen=True)
class Payment:
    """A payment event: a pre-checkout question (kind 'pre_checkout') or money received."""

    payload: str
    amount_cents: int
    currency: str
    charge_id: str = ""
    provider_charge_id: str = ""


@dataclass(frozen=True)
class Incoming:
    """One event from a person: a text, a /command or a button press."""

    platform: str
    chat_id: str
    user_id: str
    event_id: str
    kind: Kind = "text"
    text: str = ""
    payload: str = ""
    locale: str | None = None
    display_name: str | None = None
    is_group: bool = False
    addressed: bool = True
    payment: Payment | None = None
    image: Attachment | None = None  # a photo the person sent (its caption is the text)


@dataclass(frozen=True)
class Button:
    """A choice offered under a reply; payload is 'action' or 'action:arg'.

    At most MAX_PAYLOAD (48) bytes: Telegram's 64 bytes of callback data hold the payload
    and its signature (bot/buttons.py). A link button has a url instead of a payload: it
    opens the address and is no choice (Telegram shows it as a URL button, Matrix and the
    console as a plain link).
    """

    label: str
    payload: str = ""
    url: str = ""

    def __post_init__(self) -> None:
        if len(self.payload.encode()) > MAX_PAYLOAD:
            raise ValueError(f"button payload longer than {MAX_PAYLOAD} bytes")
        if self.payload and self.url:
            raise ValueError("a button has a payload or a url, not both")


@dataclass(frozen=True)
class Attachment:
    """A file or image sent with a reply."""

    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True)
class Invoice:
    """A request for payment; payload is 'prefix:...' (<= 128 bytes), routed to @payment(prefix)."""

    title: str
    description: str
    amount_cents: int
    payload: str
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if len(self.payload.encode()) > 128:
            raise ValueError("invoice payload longer than 128 bytes")
        if self.amount_cents <= 0:
            raise ValueError("invoice amount must be positive")


@dataclass(frozen=True)
class Venue:
    """A place on the map (Telegram: sendVenue; elsewhere a line with a geo: link)."""

    latitude: float
    longitude: float
    title: str
    address: str

    def geo_uri(self) -> str:
        """The place as an RFC 5870 geo: URI."""
        return f"geo:{self.latitude:.5f},{self.longitude:.5f}"

    def as_text(self) -> str:
        """The place as one line of text, for transports without a venue message."""
        return f"📍 {self.title}, {self.address}: {self.geo_uri()}"


@dataclass
class Reply:
    """One message the bot sends back: text, and optionally buttons, an image, a file, a venue."""

    text: str = ""
    buttons: list[Button] = field(default_factory=list)
    image: Attachment | None = None
    file: Attachment | None = None
    invoice: Invoice | None = None
    venue: Venue | None = None


FORM_CANCEL = "form.cancel"  # a form's Cancel button: pressed or typed by its label, not a number


def takes_a_number(button: Button) -> bool:
    """Whether a typed number can press the button: a choice, but not a link and not a form's
    Cancel – where a form asks, a number is an answer ("4" is 4 €, not the 4th button)."""
    return not button.url and button.payload != FORM_CANCEL


def flat_buttons(replies: list[Reply]) -> list[Button]:
    """All choice buttons of a turn in order (no links); numbered options count 1.. across."""
    return [button for reply in replies for button in reply.buttons if not button.url]


def _bare(reply: Reply) -> bool:
    """A reply that is nothing but text (no buttons, media, invoice or venue)."""
    return bool(reply.text) and not (
        reply.buttons or reply.image or reply.file or reply.invoice or reply.venue
    )


def coalesce(replies: list[Reply]) -> list[Reply]:
    """One message per answer: a text-only reply is joined to the reply after it.

    "Saved." followed by the next question becomes one message with the question's buttons;
    the order of texts and buttons is kept, so buttons are numbered as before. An image or
    file takes the texts only while they still fit a caption (CAPTION_LIMIT).
    """
    out: list[Reply] = []
    pending: list[str] = []
    for reply in replies:
        if _bare(reply):
            pending.append(reply.text)
            continue
        joined = len("\n\n".join([*pending, reply.text]))
        if pending and (reply.image or reply.file) and joined > CAPTION_LIMIT:
            out.append(Reply("\n\n".join(pending)))
            pending = []
        if pending:
            reply = replace(
                reply, text="\n\n".join([*pending, reply.text] if reply.text else pending)
            )
            pending = []
        out.append(reply)
    if pending:
        out.append(Reply("\n\n".join(pending)))
    return out
