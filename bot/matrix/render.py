"""Replies as Matrix message contents: m.notice with an HTML body, buttons as numbered options."""

from __future__ import annotations

import html
from typing import Any

from bot.listing import choice_lines, list_turn
from bot.messages import Reply, flat_buttons, takes_a_number

HTML_FORMAT = "org.matrix.custom.html"


def _html_text(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def notice(reply: Reply, first_number: int = 1, *, listing: bool = False,
           ) -> dict[str, Any] | None:
    """The m.notice content of a reply's text and buttons (numbered from first_number).

    listing: the turn is a list page's (bot/listing.py): its choices are a line per item
    ("1 Details · 1 Bewerben") to type, not numbered options.
    """
    text = reply.text
    if reply.venue is not None:
        text = f"{text}\n{reply.venue.as_text()}" if text else reply.venue.as_text()
    if not text and not reply.buttons:
        return None
    plain = [text] if text else []
    rich = [f"<p>{_html_text(text)}</p>"] if text else []
    choices = [b for b in reply.buttons if not b.url]
    if choices and listing:
        lines = choice_lines(choices)
        plain += lines
        rich.append("<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>")
    elif choices:
        options = [b for b in choices if takes_a_number(b)]
        numbers = range(first_number, first_number + len(options))
        plain += [f"{n}. {b.label}" for n, b in zip(numbers, options, strict=True)]
        if options:
            items = "".join(f"<li>{html.escape(b.label)}</li>" for b in options)
            rich.append(f'<ol start="{first_number}">{items}</ol>')
        unnumbered = [b.label for b in choices if not takes_a_number(b)]  # a form's Cancel
        plain += unnumbered
        rich += [f"<p>{html.escape(label)}</p>" for label in unnumbered]
    for link in (b for b in reply.buttons if b.url):
        plain.append(f"{link.label}: {link.url}")
        address = html.escape(link.url, quote=True)
        rich.append(f'<p><a href="{address}">{html.escape(link.label)}</a></p>')
    return {
        "msgtype": "m.notice",
        "body": "\n".join(plain),
        "format": HTML_FORMAT,
        "formatted_body": "".join(rich),
    }


def turn(replies: list[Reply]) -> list[tuple[dict[str, Any] | None, Reply]]:
    """Each reply's notice content with buttons numbered 1.. across the turn (as the dispatcher
    counts them), paired with the reply for its attachments."""
    out = []
    number = 1
    listing = list_turn(flat_buttons(replies))
    for reply in replies:
        out.append((notice(reply, number, listing=listing), reply))
        number += sum(takes_a_number(b) for b in reply.buttons)
    return out


def attachment_content(
    msgtype: str,
    filename: str,
    mime_type: str,
    size: int,
    content_uri: str,
    keys: dict[str, Any] | None,
) -> dict[str, Any]:
    """An m.image / m.file content; keys are the decryption info of an encrypted upload."""
    content: dict[str, Any] = {
        "msgtype": msgtype,
        "body": filename,
        "filename": filename,
        "info": {"mimetype": mime_type, "size": size},
    }
    if keys is not None:
        content["file"] = {**keys, "url": content_uri}
    else:
        content["url"] = content_uri
    return content
