"""The dispatcher: dedup, user, state, route (command / button / form / NLU), one transaction."""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import also_asked, follow_up, forms, language_choice, privately
from bot.acks import Batch, SentMarks
from bot.buttons import verify
from bot.config import Config
from bot.context import Context
from bot.i18n import normalise_language, same_label, translator
from bot.item_reference import asks_for_more, item_reference
from bot.keys import keyed_hash, load_secret, log_ref
from bot.listing import (
    CONFIRM_ASKED,
    action_label,
    item_button,
    item_buttons,
    item_number,
    item_titles,
    list_turn,
    stored_buttons,
)
from bot.messages import Button, Incoming, Reply, coalesce, flat_buttons, takes_a_number
from bot.ratelimit import Limits
from bot.registry import BadArguments, Registry, registry, split_payload
from bot.sanitize import clean_incoming
from nlu.base import NLUBackend
from storage import outbox
from storage.base import utcnow
from storage.connection_check import lost_connection
from storage.conversations import open_turn, save_state
from storage.held_writes import hold_writes
from storage.turn_session import in_one_greenlet

logger = logging.getLogger(__name__)
FALLBACK_INTENT = "nlu_fallback"
PHOTO_INTENT = "photo"  # a photo outside a form (e.g. a voucher's QR code at the till)
MAX_TEXT = 4000
DIRECT_GRACE = timedelta(minutes=10)  # time the direct path has before the outbox takes over
# the payloads a typed number was just asked to confirm (the next turn's number presses them)
EARLIER_ITEMS = "earlier_items"  # state: item buttons of the list's earlier pages
ITEM_TITLES = "item_titles"  # state: the list's items' first lines, by number
MAX_EARLIER_ITEMS = 60
FORM_CANCEL_CONFIDENCE = 0.9  # an answer inside a form is read as "cancel" only when sure
FORM_REQUEST_WORDS = 8  # ... or as a change of language, in a message this short
# ... that asks for it ("sorry, can you answer in english please?", "auf deutsch"), not one
# that says what one speaks ("ich spreche fließend englisch" as the message to an employer)
LANGUAGE_REQUEST = re.compile(
    r"\b(?:bitte|please|pls|kannst|könnt|können|koennen|kann man|can you|could you|can we"
    r"|antworte\w*|schreib\w*|sprich|answer|reply|write|switch|wechsel\w*|change|speak to me"
    r"|talk to me|auf (?:englisch|deutsch)|in (?:english|german))\b"
)
# a role's intent read this unsurely from someone without the role is a misreading, no request:
# they get "not understood", not a refusal naming a role they have nothing to do with
ROLE_INTENT_CONFIDENCE = 0.75
FLOOD_LIMITED = ("text", "command", "button")  # payments are never dropped
UNLIMITED_PLATFORMS = ("console",)  # the operator's own terminal (pipes many lines at once)
# buttons shown without numbers (Telegram's keyboards): a typed number presses none of a form's
# suggestions – it is the answer ("3" is 3 €); Matrix and the console number their options
UNNUMBERED_PLATFORMS = ("telegram",)




class Replies(list[Reply]):
    """The replies of one turn; `await replies.ack()` once the transport has sent them."""

    def __init__(self, replies: list[Reply], ack: Callable[[], Awaitable[None]] | None = None):
        super().__init__(replies)
        self._ack = ack

    async def ack(self) -> None:
        """Mark the journaled replies sent (a no-op when they were not journaled)."""
        if self._ack is not None:
            await self._ack()
            self._ack = None


async def acknowledge(replies: list[Reply]) -> None:
    """For transports: confirm that the replies of a turn went out."""
    if isinstance(replies, Replies):
        await replies.ack()


def no_such_number(ctx: Context, text: str) -> Reply | None:
    """For a bare number beyond the offered buttons (items on a list page): the range to
    pick from, instead of reading the number as a message."""
    offered = stored_buttons(ctx.state.get("buttons"))
    if not offered:  # the last list page, left for an item's details or "das war alles"
        offered = stored_buttons(ctx.state.get("list_buttons"))
    if not re.fullmatch(r"\d{1,3}", text):
        return None
    title = ctx.state.get(ITEM_TITLES, {}).get(str(int(text)))
    if title and (not offered or list_turn(offered)):  # listed without an action (closed)
        return Reply(ctx.t("button.item_without_action", number=int(text), title=title))
    if not offered:
        return None
    if list_turn(offered):
        numbers = [n for b in [*earlier_items(ctx), *offered] if (n := item_number(b.label))]
        return Reply(ctx.t("button.no_such_item", number=int(text), first=min(numbers),
                           last=max(numbers)))
    count = len([b for b in offered if takes_a_number(b)])
    if not count:
        return None
    return Reply(ctx.t("button.no_such_number", number=int(text), count=count))


def confirm_text(ctx: Context, number: int) -> str:
    """The question before a typed item number's action: the item named by its title where
    the list showed one ("Nummer 2, „Café Rosa“ – bitte bestätige:")."""
    title = ctx.state.get(ITEM_TITLES, {}).get(str(number))
    if title:
        return ctx.t("button.confirm_named_item", number=number, title=title)
    return ctx.t("button.confirm_item", number=number)


def _is_list(pairs: list[list[str]] | None) -> bool:
    """Whether stored [label, payload] pairs are a list page's buttons."""
    return list_turn(stored_buttons(pairs))


def earlier_items(ctx: Context) -> list[Button]:
    """The item buttons of the same list's earlier pages (kept while "mehr" pages through it:
    item 2 above page 2 can still be named)."""
    return stored_buttons(ctx.state.get(EARLIER_ITEMS))


def pointer_to_item(ctx: Context, text: str) -> str:
    """The text as the item it points at is typed ("register me for the second one" -> "2
    Anmelden") when a list is shown and no form waits; else the text unchanged."""
    if forms.active_form(ctx) is not None:
        return text
    shown = stored_buttons(ctx.state.get("buttons"))
    if not list_turn(shown):  # the list page left for an item's details
        shown = stored_buttons(ctx.state.get("list_buttons"))
    if asks_for_more(text) and list_turn(shown):  # "gibt es noch mehr?": the More button
        return ctx.t("button.more")
    return item_reference(text, [*shown, *earlier_items(ctx)]) or text


def list_end(ctx: Context, text: str) -> Reply | None:
    """"mehr" under a list page without a More button: that was all; with no list shown, there
    is nothing to page through ("gibt es noch mehr?" is no search for „mehr“)."""
    if not asks_for_more(text):
        return None
    if _is_list(ctx.state.get("buttons")) or _is_list(ctx.state.get("list_buttons")):
        return Reply(ctx.t("listing.no_more"))
    return Reply(ctx.t("listing.no_list"))


def kept_earlier_items(data: dict[str, Any], before: list[list[str]] | None,
                       offered: list[Button]) -> list[list[str]]:
    """The earlier pages' item buttons to keep with a new list page: when it continues the page
    before (its first item follows that page's last), that page's items and the ones kept with
    it; else none."""
    shown = [b for b in offered if not b.url and item_number(b.label) is not None]
    previous = [pair for pair in before or [] if item_number(pair[0]) is not None]
    if not shown or not previous:
        return []
    first = min(item_number(b.label) or 0 for b in shown)
    if max(item_number(label) or 0 for label, _ in previous) != first - 1:
        return []
    return [*data.get(EARLIER_ITEMS, []), *previous][-MAX_EARLIER_ITEMS:]


class Dispatcher:
    """Turns one Incoming into the replies to it, with every change in one transaction."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: Config,
        nlu: NLUBackend,
        routes: Registry = registry,
    ) -> None:
        self.sessions = sessions
        self.config = config
        self.nlu = nlu
        self.routes = routes
        self.durable: set[str] = set()
        self.direct_grace = DIRECT_GRACE
        self.sent_marks = SentMarks(sessions)
        self.secret = load_secret(config)  # signs buttons, keys the stored event ids
        # per platform: a /start payload -> the link that opens the private chat with it
        self.start_links: dict[str, privately.StartLink] = {}
        self.limits = Limits(config.security)

    def event_key(self, incoming: Incoming) -> str:
        """The event's id as stored for dedup: a keyed hash, never the platform's id."""
        return keyed_hash(self.secret, incoming.platform, incoming.event_id)

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Process one event exactly once; a redelivered event id returns no replies.

        On a durable platform (one with an outbox sender, set by `citybot run`) the replies
        are also journaled in the outbox, in the turn's transaction, as claimed by the
        direct path: the transport calls `await replies.ack()` once it sent them (acks are
        committed in batches, bot/acks.py). If it never does (the process died between
        commit and send), the outbox sender takes the row over after `direct_grace` plus
        the lease – or at once when a restarted SQLite process releases the claims.

        Texts are cleaned first (bot/sanitize.py); a user over the message rate limit gets
        one notice and is then ignored until the limit allows messages again. A turn whose
        database connection turned out lost runs once more on a fresh one
        (storage/connection_check.py).
        """
        incoming = clean_incoming(incoming)
        if incoming.is_group and not incoming.addressed and incoming.kind == "text":
            return []
        if incoming.kind in FLOOD_LIMITED and incoming.platform not in UNLIMITED_PLATFORMS:
            verdict = await self.limits.flood.check((incoming.platform, incoming.user_id))
            if verdict != "ok":
                return self._flooded(incoming, verdict == "notice")
        preparsed = await self._preparse(incoming)
        try:
            return await self._turn_on_a_live_connection(incoming, preparsed)
        except Exception:
            logger.exception(
                "turn failed platform=%s event=%s kind=%s",
                incoming.platform,
                log_ref(incoming.platform, incoming.event_id),
                incoming.kind,
            )
            language = normalise_language(incoming.locale, self.config.city.default_language)
            return [Reply(translator(language)("error.internal"))]

    async def _turn_on_a_live_connection(
        self, incoming: Incoming, preparsed: dict[str, Any] | None
    ) -> list[Reply]:
        """The turn in one greenlet; once more when its database connection was lost (it rolled
        back and the pool has replaced its connections: storage/connection_check.py)."""
        try:
            return await in_one_greenlet(self._turn(incoming, preparsed))
        except Exception as error:
            if not lost_connection(error):
                raise
            logger.warning(
                "turn lost its database connection, once more platform=%s event=%s",
                incoming.platform,
                log_ref(incoming.platform, incoming.event_id),
            )
        return await in_one_greenlet(self._turn(incoming, preparsed))

    async def _turn(self, incoming: Incoming, preparsed: dict[str, Any] | None) -> list[Reply]:
        """The turn's one transaction; sent answers waiting for their mark ride along in it.

        Run in one greenlet (storage/turn_session.py): the session's calls need none each.
        """
        acks: Batch = []
        try:
            async with self.sessions() as db, db.begin():
                replies = await self._handle_in_transaction(db, incoming, preparsed)
                acks = await self.sent_marks.piggyback(db)  # sent answers, in this commit
        except BaseException:
            self.sent_marks.settle(acks, committed=False)
            raise
        self.sent_marks.settle(acks, committed=True)
        return replies

    async def _preparse(self, incoming: Incoming) -> dict[str, Any] | None:
        """The NLU's reading of a typed message, taken before the turn's transaction begins.

        The NLU is the slowest step of a turn (and a network call with the Rasa backend); on
        SQLite every millisecond inside the transaction holds the one write lock. A turn that
        needs the reading takes this one (Context.understand); one that does not ignores it.
        Commands, photos, empty and over-long texts are not read; a failing NLU leaves the
        reading to the turn, as before.
        """
        text = incoming.text.strip()
        if (
            incoming.kind != "text"
            or incoming.image is not None
            or not text
            or text.startswith("/")
            or len(text) > MAX_TEXT
        ):
            return None
        try:
            return await self.nlu.parse(incoming.text, self.config.city.default_language)
        except Exception as error:  # the turn parses again and answers the failure itself
            logger.warning("nlu preparse failed error=%s", type(error).__name__)
            return None

    def _flooded(self, incoming: Incoming, notice: bool) -> list[Reply]:
        """The one notice to a flooding user (later messages of the flood get nothing)."""
        if not notice:
            return []
        logger.warning("message rate limit reached platform=%s", incoming.platform)
        language = normalise_language(incoming.locale, self.config.city.default_language)
        return [Reply(translator(language)("limits.flood"))]

    async def _handle_in_transaction(
        self, db: AsyncSession, incoming: Incoming, preparsed: dict[str, Any] | None = None
    ) -> list[Reply]:
        event_key = self.event_key(incoming)
        event_ref = log_ref(incoming.platform, incoming.event_id)
        language = normalise_language(incoming.locale, self.config.city.default_language)
        turn = await open_turn(
            db,
            incoming.platform,
            event_key,
            incoming.user_id,
            incoming.chat_id,
            language=language,
            language_source=language_choice.first_source(incoming.locale),
            display_name=incoming.display_name,
            group=incoming.is_group,
        )
        if turn is None:
            logger.info("duplicate event platform=%s event=%s", incoming.platform, event_ref)
            return []
        user, state = turn.user, turn.state
        data: dict[str, Any] = copy.deepcopy(state.data or {})
        ctx = Context(
            db=db,
            user=user,
            incoming=incoming,
            config=self.config,
            nlu=self.nlu,
            state=data,
            limits=self.limits,
            preparsed=preparsed,
        )
        if (data.get("form") or {}).get("private"):
            ctx.private = True  # a form a private route opened answers privately throughout
        language_choice.listen(ctx)  # a new user's language from their message
        asked = data.get(CONFIRM_ASKED)
        replies = coalesce(await self._route(ctx))  # one message per answer where it can be
        if asked is not None and data.get(CONFIRM_ASKED) is asked:
            data.pop(CONFIRM_ASKED)  # a confirmation holds for the next turn only
        if ctx.erased:
            if state in db:
                db.expunge(state)
            logger.info("user erased platform=%s event=%s", incoming.platform, event_ref)
            return replies
        if not list_turn(flat_buttons(replies)):  # under a list its buttons would not be
            replies = [*replies, *language_choice.offer(ctx)]  # numbered: offered next turn
        if ctx.private and incoming.is_group and replies:
            start_link = self.start_links.get(incoming.platform)
            replies = await privately.redirect(ctx, replies, event_key, start_link)
        before = data.get("buttons")
        offered = flat_buttons(replies)
        if offered:
            data["buttons"] = [[b.label, b.payload] for b in offered]
        else:
            data.pop("buttons", None)
        titles = item_titles("\n".join(r.text for r in replies))  # a list page's items
        if list_turn(offered):  # the list is this turn's own offer: no copy kept
            left = data.pop("list_buttons", None)  # the page before, left for an item's details
            earlier = kept_earlier_items(data, before if _is_list(before) else left, offered)
            if earlier:
                data[EARLIER_ITEMS] = earlier
                titles = {**data.get(ITEM_TITLES, {}), **titles}
            else:
                data.pop(EARLIER_ITEMS, None)
            data[ITEM_TITLES] = dict(list(titles.items())[-MAX_EARLIER_ITEMS:])
        elif titles:  # a list without any action (every posting closed): the one before goes
            data.pop("list_buttons", None)
            data.pop(EARLIER_ITEMS, None)
            if ctx.private:  # personal lines (an evening's attendees) are not kept: names in a
                data.pop(ITEM_TITLES, None)  # staff member's state would outlive an erasure
            else:
                data[ITEM_TITLES] = dict(list(titles.items())[-MAX_EARLIER_ITEMS:])
        elif _is_list(before):
            data["list_buttons"] = before  # a list page left: still nameable after details
        also_asked.forget_unless_offered(data)  # its button gone: the request is not kept
        hold_writes(db)  # PostgreSQL: state, journal and acks go as one statement at the commit
        await save_state(db, state, data)
        await db.flush()
        logger.info(
            "turn platform=%s event=%s kind=%s intent=%s replies=%d",
            incoming.platform,
            event_ref,
            incoming.kind,
            ctx.intent,
            len(replies),
        )
        if replies and incoming.platform in self.durable:
            return await self._journal(db, incoming, user.id, replies, event_key)
        return replies

    async def _journal(
        self,
        db: AsyncSession,
        incoming: Incoming,
        user_id: int,
        replies: list[Reply],
        event_key: str,
    ) -> Replies:
        dedup_key = f"reply:{incoming.platform}:{event_key}"
        await outbox.journal_direct(
            db,
            platform=incoming.platform,
            recipient=incoming.chat_id,
            replies=replies,
            user_id=user_id,
            dedup_key=dedup_key,
            claimed_until=utcnow() + self.direct_grace,
        )
        return Replies(replies, partial(self._delivered, dedup_key))

    async def _delivered(self, dedup_key: str) -> None:
        await self.sent_marks.mark(dedup_key)

    async def _route(self, ctx: Context) -> list[Reply]:
        incoming = ctx.incoming
        if incoming.kind == "command":
            return await self._command(ctx, incoming.text)
        if incoming.kind == "button":
            return await self._pressed(ctx)
        if incoming.kind in ("pre_checkout", "payment"):
            return await self._payment(ctx)
        text = incoming.text.strip()
        if text.startswith("/") and len(text) <= MAX_TEXT:
            return await self._command(ctx, text)  # also as a photo's caption: "/update …"
        if incoming.image is not None and forms.active_form(ctx) is None:
            return await self._intent(ctx, PHOTO_INTENT)
        if not text and (incoming.image is None or forms.active_form(ctx) is None):
            return [Reply(ctx.t("error.empty"))]  # a photo alone only answers a form's question
        if len(text) > MAX_TEXT:  # said, and an open form's question asked again
            return [Reply(ctx.t("error.too_long", max=MAX_TEXT)), *await forms.reask(ctx)]
        pointed = pointer_to_item(ctx, text)  # "the second one": "2"
        pressed = self._offered_button(ctx, pointed)
        if pressed is None and forms.active_form(ctx) is None:  # "mehr", "3 bewerben" after
            pressed = self._offered_button(ctx, pointed, "list_buttons")  # an item's details
            pressed = pressed if pressed is not None else no_such_number(ctx, text)
            pressed = pressed if pressed is not None else list_end(ctx, text)
        if isinstance(pressed, str):
            return await self._button(ctx, pressed)
        if isinstance(pressed, Reply):
            return [pressed]
        if pressed:
            return [Reply(ctx.t("button.which"), pressed)]
        if forms.active_form(ctx) is not None:
            if forms.is_cancel_word(text):
                return await self._command(ctx, "/cancel")
            if forms.is_back_word(text):
                return await forms.back(ctx)
            if forms.is_repeat_word(text):  # "nochmal bitte", "wie bitte?": the question again
                return await forms.reask(ctx)
            if text and len(text.split()) <= FORM_REQUEST_WORDS:
                parse = await ctx.understand()
                intent = parse["intent"]
                sure = intent["confidence"] >= FORM_CANCEL_CONFIDENCE
                short = len(text.split()) <= 4  # at the confirmation the form reads it itself
                if intent["name"] == "cancel" and sure and short and not forms.at_confirmation(ctx):
                    return await self._command(ctx, "/cancel")
                # "can you speak english", "english?" – not "ich spreche fließend englisch"
                asked = len(text.split()) <= 2 or LANGUAGE_REQUEST.search(text.lower()) is not None
                if intent["name"] == "change_language" and sure and asked:
                    return [*await self._intent(ctx, "change_language"),
                            *await forms.reask(ctx)]
            return await forms.answer(ctx, text)
        if forms.is_pause(text):
            return [Reply(ctx.t("pause.ok"))]  # "one sec" outside a form: no goodbye
        parse = await ctx.understand()
        split = await also_asked.split_requests(ctx, self.routes, text)  # "… und ein Gutschein"
        if split is None:
            name = parse["intent"]["name"]
            continued = follow_up.continued(ctx, self.routes, text, name)  # "und morgen?"
            if continued is not None:
                follow_up.read_as(ctx, continued)
            return await self._intent(ctx, continued or name)
        ctx.incoming = replace(ctx.incoming, text=split.first)  # the first request alone
        ctx.parse = split.reading
        replies = await self._intent(ctx, split.reading["intent"]["name"])
        return also_asked.offer(ctx, replies, split.others)

    def _offered_button(
        self, ctx: Context, text: str, offer: str = "buttons"
    ) -> str | list[Button] | Reply | None:
        """The payload of the offered button the text names, by number or label.

        A list item's action also answers to its label without the number ("apply" for "2
        Apply"). Several buttons with that label: a list of them (relabelled unless their labels
        differ) to choose from. A typed item number whose first action cannot be undone
        (declared by_number=False), or typed while a form waits for its answer below a list the
        user asked for: a reply offering the item's actions to confirm. offer: the
        state's buttons to match, the turn's ("buttons") or the last list page's.
        """
        offered = stored_buttons(ctx.state.get(offer))
        if not offered:
            return None
        # the items of the list's earlier pages, for "2" or "2 bewerben" under page 2
        numbered = [*offered, *earlier_items(ctx)] if offer == "buttons" else offered
        unnumbered = ctx.incoming.platform in UNNUMBERED_PLATFORMS
        if re.fullmatch(r"\d{1,3}", text) and not forms.awaits_free_text(ctx, unnumbered):
            number = int(text)
            if list_turn(offered):  # "2" on a list page: item 2 (its details), not option 2
                item = item_button(numbered, number)
                if item is None:
                    return None
                name = split_payload(item.payload)[0]
                route = self.routes.buttons.get(name)
                # a list shown while a form waits for its answer: a bare number is ambiguous
                in_form = forms.active_form(ctx) is not None and not name.startswith("form.")
                if route is not None and (not route.by_number or in_form):
                    actions = [
                        Button(action_label(b.label), b.payload)
                        for b in item_buttons(numbered, number)
                    ]
                    ctx.state[CONFIRM_ASKED] = [b.payload for b in actions]
                    return Reply(confirm_text(ctx, number), actions)
                return item.payload
            options = [b for b in offered if takes_a_number(b)]  # a form's Cancel is typed
            if not 1 <= number <= len(options):
                return None
            chosen = options[number - 1]
            route = self.routes.buttons.get(split_payload(chosen.payload)[0])
            confirmed = chosen.payload in ctx.state.get(CONFIRM_ASKED, [])
            if route is not None and not route.by_number and not confirmed:
                ctx.state[CONFIRM_ASKED] = [chosen.payload]  # "1" again: now it is meant
                return Reply(ctx.t("button.confirm_option", label=chosen.label), [chosen])
            return chosen.payload
        wanted = text.lower().strip(" .!?")  # "Jetzt: wie lange hat … offen?" as its label
        matches = [b for b in numbered if b.label.lower().strip(" .!?") == wanted]
        if not matches:  # "apply" on a list page: the items' "1 Apply", "2 Apply", ...
            matches = [b for b in offered if action_label(b.label).lower() == wanted]
        if not matches:  # "more" on a list shown in German before /language en
            matches = [b for b in offered if same_label(action_label(b.label), wanted)]
        number, _, word = wanted.partition(" ")
        if not matches and re.fullmatch(r"[0-9]{1,3}", number):  # "1 bewerben": "1 Apply"
            matches = [b for b in numbered if item_number(b.label) == int(number)
                       and same_label(action_label(b.label), word)]
        asked = ctx.state.get(CONFIRM_ASKED, [])
        said_yes = forms.says_yes(wanted)  # "ok", "ja bitte"
        if not matches and said_yes and offer == "buttons" and len(asked) == 1:
            chosen = [b for b in offered if b.payload == asked[0]]  # "ja" to "bitte bestätige:"
            if len(offered) == 1 and chosen:
                return chosen[0].payload
        if not matches:  # "ok" for "Ja, auf die Warteliste"
            matches = [b for b in offered if forms.picks_yes_or_no(wanted, b.label)]
        if len({b.payload for b in matches}) == 1:
            return matches[0].payload
        if len(matches) > 1 and len({b.label for b in matches}) == len(matches):
            return matches
        if len(matches) > 1:
            return [Button(f"{b.label} #{i}", b.payload) for i, b in enumerate(matches, 1)]
        return None

    async def _intent(self, ctx: Context, name: str) -> list[Reply]:
        route = self.routes.intents.get(name)
        if route is None and name != FALLBACK_INTENT:
            return [Reply(ctx.t("service.not_yet"))]
        if route is not None and route.role is not None and not ctx.has_role(route.role):
            confidence = ctx.parse["intent"]["confidence"] if ctx.parse else 1.0
            if confidence < ROLE_INTENT_CONFIDENCE:  # "20" read as a PPE request: not understood
                route = None
        route = route or self.routes.intents.get(FALLBACK_INTENT)
        follow_up.remember(ctx, name, route)  # the request a follow-up ("und morgen?") continues
        return await route(ctx, []) if route else [Reply(ctx.t("fallback.text"))]

    async def _command(self, ctx: Context, text: str) -> list[Reply]:
        head, _, rest = text.strip().partition(" ")
        name = head.lstrip("/!").split("@")[0].lower()
        route = self.routes.commands.get(name)
        if route is None:
            return [Reply(ctx.t("command.unknown", command=name))]
        before = ctx.state.get("form")
        replies = await route(ctx, [rest.strip()])
        # a command in the middle of a form: ask its pending question again (a command that
        # opened a new form has already asked that form's first question)
        still_open = before is not None and ctx.state.get("form") is before
        if name not in ("cancel", "start") and still_open and forms.active_form(ctx) is not None:
            replies += await forms.reask(ctx)
        return replies

    async def _payment(self, ctx: Context) -> list[Reply]:
        """A pre-checkout question or a received payment, to the handler of its payload prefix."""
        info = ctx.incoming.payment
        if info is None:
            return [Reply(ctx.t("payment.unknown"))]
        checking = ctx.incoming.kind == "pre_checkout"
        table = self.routes.payment_checks if checking else self.routes.payments_received
        handler = table.get(split_payload(info.payload)[0])
        if handler is None:
            logger.warning(
                "no payment handler platform=%s event=%s",
                ctx.incoming.platform,
                log_ref(ctx.incoming.platform, ctx.incoming.event_id),
            )
            return [Reply(ctx.t("payment.unknown"))]
        return await handler(ctx, info)

    async def _pressed(self, ctx: Context) -> list[Reply]:
        """A pressed button: only with a valid signature for this chat (bot/buttons.py)."""
        incoming = ctx.incoming
        data = verify(self.secret, incoming.chat_id, incoming.payload)
        if data is None:
            logger.warning(
                "button not offered in this chat platform=%s event=%s",
                incoming.platform,
                log_ref(incoming.platform, incoming.event_id),
            )
            return [Reply(ctx.t("button.expired"))]
        return await self._button(ctx, data)

    async def _button(self, ctx: Context, data: str) -> list[Reply]:
        action, args = split_payload(data)
        if action == also_asked.ACTION:
            return await self._ask_remembered(ctx)
        route = self.routes.buttons.get(action)
        if route is None:
            return [Reply(ctx.t("button.expired"))]
        try:
            return await route(ctx, args)
        except BadArguments:
            return [Reply(ctx.t("button.expired"))]

    async def _ask_remembered(self, ctx: Context) -> list[Reply]:
        """The next request of an earlier message (bot/also_asked.py), asked as if typed now;
        the ones after it are offered under its answer."""
        requests = also_asked.remembered(ctx.state)
        if not requests:
            return [Reply(ctx.t("button.expired"))]
        if forms.active_form(ctx) is not None:  # its answer first: the request is no answer
            return [*also_asked.offer(ctx, [], requests), *await forms.reask(ctx)]
        request, *later = requests
        ctx.incoming = replace(ctx.incoming, kind="text", text=request, payload="")
        ctx.parse = ctx.preparsed = None
        replies = await self._route(ctx)
        return also_asked.offer(ctx, replies, later) if later else replies
