"""Multi-step forms: required slots, one question and one validator each, confirm, cancel.

```mermaid
stateDiagram-v2
    [*] --> asking: start (prefilled from entities)
    asking --> asking: valid answer, next missing slot
    asking --> asking: invalid answer, error + same question
    asking --> confirming: all slots filled (forms with confirm)
    asking --> submitted: all slots filled (forms without confirm)
    confirming --> submitted: yes / confirm button
    confirming --> cancelled: no / cancel button
    confirming --> confirming: saving failed (nothing saved; confirm again or cancel)
    asking --> cancelled: cancel (text, /cancel or button)
    submitted --> [*]
    cancelled --> [*]
```
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rapidfuzz import fuzz, process

from bot.context import Context
from bot.messages import FORM_CANCEL, Button, Reply
from bot.registry import button, payload, registry
from nlu.normalize import fold

logger = logging.getLogger(__name__)
FORMS: dict[str, type[Form]] = {}
CONFIRM_STEP = "__confirm__"
# form args: answers the message named before the form could check them (an amount said
# before the shop it depends on is chosen), taken as typed when their slot comes up
HELD = "held"
CANCEL_WORDS = {
    "abbrechen", "abbruch", "cancel", "stop", "stopp", "exit", "quit", "halt", "ende",
    # everyday ways to drop it: "nee lass mal", "vergiss es", "never mind"
    "lass mal", "nee lass mal", "ne lass mal", "nein lass mal", "ach lass mal", "lass gut sein",
    "lass es", "vergiss es", "vergiss es einfach", "egal", "doch nicht", "forget it",
    "never mind", "nevermind", "nvm", "forget about it",
}
# a request for help with the open question: said how to answer or leave, the question kept
HELP_WORDS = {
    "hilfe", "help", "hilfe bitte", "help me", "help please", "was soll ich machen",
    "was soll ich hier machen", "was muss ich machen", "was muss ich hier machen",
    "was soll ich tun", "what do i do", "what should i do", "what do i do here",
    "what should i do here", "i dont understand", "ich verstehe das nicht", "wie geht das",
    "how does this work",
}
YES_WORDS = {
    "ja",
    "yes",
    "j",
    "y",
    "ok",
    "okay",
    "jo",
    "jep",
    "yep",
    "passt",
    "klar",
    "gerne",
    "sure",
    "bestätigen",
    "bestaetigen",
    "confirm",
    "senden",
    "send",
    "absenden",
}
# a yes said with the action's own verb: "publish it", "ja, abschicken", "send it now"
CONFIRM_VERBS = {
    "publish", "veröffentlichen", "veroeffentlichen", "post", "posten", "send", "senden",
    "absenden", "abschicken", "schick", "schicken", "submit", "einreichen", "buy", "kaufen",
    "book", "buchen", "go", "los",
}
# words around a yes that change nothing: "ja gerne", "yes please", "send it now"
YES_FILLERS = {
    "bitte", "please", "gerne", "gern", "danke", "thanks", "it", "es", "das", "so", "now",
    "jetzt", "ab", "mal", "genau", "richtig", "right", "do", "go", "ahead", "alles",
    "thank", "you", "ja", "yes",
}
# a request to hear the question again: asked again, nothing dropped ("nochmal bitte")
REPEAT_WORDS = {
    "nochmal", "nochmal bitte", "noch mal", "noch mal bitte", "noch einmal", "noch einmal bitte",
    "wie bitte", "wiederholen", "bitte wiederholen", "kannst du das wiederholen", "hä", "hae",
    "again", "again please", "say that again", "say again", "repeat", "repeat please",
    "repeat that", "pardon", "come again", "sorry what",
}
BACK_WORDS = {"zurück", "zurueck", "back", "go back", "schritt zurück", "one step back"}
# words that make a "yes" at the confirmation a "yes, but …": asked again, never submitted
HEDGE_WORDS = {
    "aber", "but", "warte", "wait", "moment", "lieber", "statt", "anstatt", "instead",
    "noch", "überlege", "ueberlege", "think", "later", "später", "spaeter", "nicht", "not",
    "dont", "kein", "keine", "ändern", "aendern", "change", "doch", "rather",
}
NO_WORDS = {"nein", "no", "n", "nope", "nö", "noe", "ne", "nee"}
# the first words of an option or button a plain yes or no picks ("Ja, auf die Warteliste")
YES_STARTS, NO_STARTS = ("ja", "yes"), ("nein", "no")
# a whole answer that only asks for time ("moment bitte", "warte kurz", "one sec"): no answer
PAUSE = re.compile(
    r"(?:(?:ähm|äh|hmm+|ok|okay|oh|so)\s+)?(?:"
    r"(?:(?:einen|ein|1)\s+)?(?:moment|momentchen|augenblick|sekunde|sek|minute)"
    r"(?:\s+(?:mal|bitte|noch|kurz))*"
    r"|wart(?:e|et)?(?:\s+(?:mal|kurz|bitte|noch|eben|gerade))*|kurz warten|bin gleich zurück"
    r"|(?:just\s+)?(?:a|one)\s+(?:sec|second|moment|minute)(?:\s+please)?"
    r"|wait(?:\s+(?:a|one)\s+(?:sec|second|moment|minute))?(?:\s+please)?"
    r"|hold on|hang on|one sec|brb|be right back"
    r")"
)


class Invalid(ValueError):
    """An answer that does not fit the slot; key is the message explaining why."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


class Changed(Invalid):
    """An answer that changed an earlier one instead ("lieber für die trattoria" at the amount
    step): its message is said and the step asked again – never read as another request."""


@dataclass(frozen=True)
class Choice:
    """One allowed answer of a choice slot: stored value and message key of its label."""

    value: str
    label: str


Parser = Callable[[Context, str], Any]
ChoiceSource = Callable[[Context], Awaitable[list[Choice]]]


@dataclass(frozen=True)
class FreeText:
    """A validator for free text of a sensible length (kept as typed)."""

    max_length: int = 1000
    min_length: int = 2

    def __call__(self, _ctx: Context, text: str) -> str:
        """The text, stripped; Invalid when too short or too long."""
        text = text.strip()
        if len(text) < self.min_length:
            raise Invalid("form.too_short")
        if len(text) > self.max_length:
            raise Invalid("form.too_long", max=self.max_length)
        return text


def free_text(max_length: int = 1000, min_length: int = 2) -> Parser:
    """A validator for free text of a sensible length."""
    return FreeText(max_length, min_length)


DEFAULT_TEXT = free_text()


@dataclass(frozen=True)
class Slot:
    """A piece of information a form needs."""

    name: str
    question: str
    parse: Parser = DEFAULT_TEXT
    choices: ChoiceSource | None = None
    entity: str | None = None
    ask_if: Callable[[Context, dict[str, Any]], bool] | None = None
    suggest: ChoiceSource | None = None  # buttons under a typed question; a press is an answer


class Form:
    """A declarative multi-step form; subclasses set name and slots and implement submit."""

    name: ClassVar[str]
    slots: ClassVar[list[Slot]]
    confirm: ClassVar[bool] = True
    # the role submitting needs (checked again at submit: it may have been taken away since
    # the route that opened the form checked it)
    role: ClassVar[str | None] = None
    # the confirm button's text key: a form whose confirmation is itself a cancellation says
    # so ("Ja, absagen"), and "yes, cancel it" then confirms it
    confirm_label: ClassVar[str] = "button.confirm"
    leave_label: ClassVar[str] = "button.cancel"  # ... and its leave button "Nein, behalten"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name in FORMS:
            raise ValueError(f"form {cls.name!r} defined twice")
        FORMS[cls.name] = cls

    @classmethod
    def summary(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> str:
        """The text shown before confirmation."""
        raise NotImplementedError

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Do what the form was for; runs inside the turn's transaction."""
        raise NotImplementedError

    @classmethod
    async def revise(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> bool:
        """A change said at the confirmation ("doch lieber 50 euro") taken into values: True,
        and the summary is shown again (or a dropped answer asked again); none by default."""
        return False

    @classmethod
    async def prefill(cls, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        """Slot values known before asking, beyond single entities (none by default)."""
        return {}

    @classmethod
    async def gone(cls, ctx: Context, args: dict[str, Any]) -> str | None:
        """The message key when what the form is for went away meanwhile (a posting closed
        while applying): the next step ends the form with it; None by default."""
        return None

    @classmethod
    def question_text(
        cls, ctx: Context, slot: Slot, values: dict[str, Any], args: dict[str, Any]
    ) -> str:
        """A slot's question as asked – also when asked again after an interruption (the
        slot's fixed text by default; a form may name what the question is about, from the
        answers so far and its arguments)."""
        return ctx.t(slot.question)

    @classmethod
    async def label_of(cls, ctx: Context, slot: Slot, value: Any) -> str:
        """A slot's value as the user should read it (choice label or the value)."""
        if slot.choices is not None:
            for choice in await slot.choices(ctx):
                if choice.value == value:
                    return ctx.t(choice.label)
        return str(value)


def _form_state(ctx: Context) -> dict[str, Any] | None:
    return ctx.state.get("form")


def form_args(ctx: Context) -> dict[str, Any]:
    """The open form's arguments (empty when none is open)."""
    return (_form_state(ctx) or {}).get("args", {})


def form_values(ctx: Context) -> dict[str, Any]:
    """The answers of the open form so far (empty when none is open)."""
    return (_form_state(ctx) or {}).get("values", {})


def active_form(ctx: Context) -> type[Form] | None:
    """The form the chat is in the middle of, if any."""
    state = _form_state(ctx)
    return FORMS.get(state["name"]) if state else None


def awaits_free_text(ctx: Context, suggestions_unnumbered: bool = False) -> bool:
    """True while the open form waits for a typed (not chosen) answer; with
    suggestions_unnumbered (buttons that show no numbers, as on Telegram) also in a step whose
    buttons only suggest answers: there "3" is 3 €, not the third suggestion."""
    form, state = active_form(ctx), _form_state(ctx)
    if form is None or state is None or state["slot"] == CONFIRM_STEP:
        return False
    slot = next(s for s in form.slots if s.name == state["slot"])
    return slot.choices is None and (slot.suggest is None or suggestions_unnumbered)


async def start_form(ctx: Context, form: type[Form], args: dict[str, Any]) -> list[Reply]:
    """Open a form, prefill slots from the message's entities, ask the first question."""
    values: dict[str, Any] = {}
    for slot in form.slots:
        value = ctx.entity(slot.entity) if slot.entity else None
        if value is None:
            continue
        if slot.choices is None or value in {c.value for c in await slot.choices(ctx)}:
            values[slot.name] = value
    values.update(await form.prefill(ctx, args))
    ctx.state["form"] = {"name": form.name, "values": values, "args": args, "slot": None}
    if ctx.route:  # the request that opened the form: saying it again is no other request
        ctx.state["form"]["origin"] = ctx.route
    if ctx.private:  # started by a private route: its later questions are personal too
        ctx.state["form"]["private"] = True
    return await _advance(ctx, form)


def _next_slot(ctx: Context, form: type[Form], values: dict[str, Any]) -> Slot | None:
    for slot in form.slots:
        if slot.name in values:
            continue
        if slot.ask_if is None or slot.ask_if(ctx, values):
            return slot
    return None


def capitalised(label: str) -> str:
    """The label with its first letter upper case, the rest as it is."""
    return label[:1].upper() + label[1:]


async def _question(ctx: Context, slot: Slot) -> Reply:
    buttons = []
    source = slot.choices or slot.suggest
    if source is not None:
        buttons = [  # a button's label starts upper case ("Nursing"; in sentences "nursing")
            Button(capitalised(ctx.t(c.label)), payload("form.choose", c.value))
            for c in await source(ctx)
        ]
    buttons.append(Button(ctx.t("button.cancel"), FORM_CANCEL))
    form, state = active_form(ctx), _form_state(ctx)
    if form is None or state is None:
        return Reply(ctx.t(slot.question), buttons)
    return Reply(form.question_text(ctx, slot, state["values"], state["args"]), buttons)


async def _advance(ctx: Context, form: type[Form]) -> list[Reply]:
    state = _form_state(ctx)
    assert state is not None
    notes: list[Reply] = []  # why a held answer was not taken
    while (slot := _next_slot(ctx, form, state["values"])) is not None:
        held = state["args"].get(HELD, {}).pop(slot.name, None)
        if held is None:
            state["slot"] = slot.name
            return [*notes, await _question(ctx, slot)]
        try:
            state["values"][slot.name] = await _parse(ctx, slot, held)
        except Invalid as invalid:
            notes.append(Reply(ctx.t(invalid.key, **invalid.values)))
    if form.confirm:
        state["slot"] = CONFIRM_STEP
        text = form.summary(ctx, state["values"], state["args"])
        return [*notes, Reply(text, _confirm_buttons(ctx, form))]
    return [*notes, *await _submit(ctx, form)]


def _confirm_buttons(ctx: Context, form: type[Form]) -> list[Button]:
    return [
        Button(ctx.t(form.confirm_label), "form.confirm"),
        Button(ctx.t(form.leave_label), FORM_CANCEL),
    ]


async def _submit(ctx: Context, form: type[Form]) -> list[Reply]:
    """Run the form's submit in a savepoint; if it fails, nothing of it is saved and the
    form waits at its confirmation, so the user can try again or cancel (never stuck)."""
    state = ctx.state.pop("form")
    if form.role is not None and not ctx.has_role(form.role):
        return ctx.refuse(form.role)
    try:
        async with ctx.db.begin_nested():
            return await form.submit(ctx, state["values"], state["args"])
    except Exception:
        logger.exception("form submit failed form=%s", form.name)
    await ctx.db.refresh(ctx.user)  # the rolled-back savepoint expired what it touched
    if not form.confirm:
        return [Reply(ctx.t("form.save_failed_start_again"))]
    state["slot"] = CONFIRM_STEP
    ctx.state["form"] = state
    return [Reply(ctx.t("form.save_failed"), _confirm_buttons(ctx, form))]


def cancel_form(ctx: Context) -> bool:
    """Leave the open form, if any; True if there was one."""
    return ctx.state.pop("form", None) is not None


def bare_words(text: str) -> str:
    """A typed text as compared with word lists: lower case, without punctuation."""
    return re.sub(r"[^\w ]", "", text.lower()).strip()


def is_pause(text: str) -> bool:
    """Whether a whole message only asks for time ("moment bitte", "one sec")."""
    return PAUSE.fullmatch(bare_words(text)) is not None


def is_cancel_word(text: str) -> bool:
    """Whether a short text plainly means 'cancel'."""
    return bare_words(text) in CANCEL_WORDS


def at_confirmation(ctx: Context) -> bool:
    """Whether the open form waits for its confirmation (its summary was shown)."""
    state = _form_state(ctx)
    return state is not None and state["slot"] == CONFIRM_STEP


def is_repeat_word(text: str) -> bool:
    """Whether a short text asks to hear the question again ("nochmal bitte", "wie bitte?")."""
    return bare_words(text) in REPEAT_WORDS


def says_yes(text: str, label: str = "") -> bool:
    """Whether a text is a plain yes: yes words or the action's verb ("ja gerne", "publish it"),
    and no other word – but those of the confirm button's label ("yes, cancel it" to "Yes,
    cancel the session"). "ja, aber lieber 30 euro" is no plain yes."""
    words = bare_words(text).split()
    if not words or words[0] not in YES_WORDS | CONFIRM_VERBS:
        return False
    allowed = YES_WORDS | CONFIRM_VERBS | YES_FILLERS | set(bare_words(label).split())
    return all(word in allowed for word in words) and not set(words) & HEDGE_WORDS


def begins_with_yes(text: str) -> bool:
    """Whether a text begins with a yes word ("ja, einen gutschein kaufen bitte"): an answer to
    the offer just shown."""
    words = bare_words(text).split()
    return bool(words) and words[0] in YES_WORDS


def says_no(text: str) -> bool:
    """Whether a text is a plain no ("nein danke", "no thanks")."""
    words = bare_words(text).split()
    return bool(words) and words[0] in NO_WORDS and all(
        word in NO_WORDS | {"danke", "thanks", "bitte", "please", "thank", "you"} for word in words
    )


def is_back_word(text: str) -> bool:
    """Whether a short text plainly means 'one step back'."""
    return bare_words(text) in BACK_WORDS


async def back(ctx: Context) -> list[Reply]:
    """One step back: the answer before the current step is asked again (the later answers
    are kept); at the first step, said so and the question asked again."""
    form, state = active_form(ctx), _form_state(ctx)
    if form is None or state is None:
        return []
    values = state["values"]
    names = [slot.name for slot in form.slots]
    before = len(names) if state["slot"] == CONFIRM_STEP else names.index(state["slot"])
    for slot in reversed(form.slots[:before]):
        rest = {k: v for k, v in values.items() if k != slot.name}
        askable = slot.question and (slot.ask_if is None or slot.ask_if(ctx, rest))
        if slot.name in values and askable:
            del values[slot.name]
            state["slot"] = slot.name
            return [await _question(ctx, slot)]
    return [Reply(ctx.t("form.no_step_back")), *await reask(ctx)]


async def _match_choice(ctx: Context, slot: Slot, text: str) -> str | None:
    choices = await slot.choices(ctx) if slot.choices else []
    if slot.entity:
        parse = await ctx.understand()
        candidates = parse.get("candidate_entities", parse["entities"])
        found = [e["value"] for e in candidates if e["entity"] == slot.entity]
        for value in found:
            if value in {c.value for c in choices}:
                return value
    # umlauts folded on both sides: "plaetze" is "Plätze"
    labels = {fold(ctx.t(c.label)): c.value for c in choices}
    labels.update({fold(c.value): c.value for c in choices})
    typed = fold(text).strip()
    for label, _score, _index in process.extract(
        typed, list(labels), scorer=fuzz.WRatio, score_cutoff=85, limit=3
    ):
        # neither half of a word: "dortmund" is not "Lütgendortmund", "sozialarbeit" not "IT"
        if not inside_a_word(typed, label) and not inside_a_word(label, typed) \
                and says_whole_label(typed, label):
            return labels[label]
    return None


def says_whole_label(typed: str, label: str) -> bool:
    """Whether a text longer than an option's label says each of its words: "ich nehme die
    pflege" picks "Pflege", but "lösch alle meine daten" is not "Alle Bereiche"."""
    typed_words, label_words = typed.split(), [w for w in label.split() if w.isalnum()]
    if len(typed_words) <= len(label_words):
        return True
    return all(
        process.extractOne(word, typed_words, scorer=fuzz.ratio, score_cutoff=85) is not None
        for word in label_words
    )


def picks_yes_or_no(text: str, label: str) -> bool:
    """Whether a plain yes or no ("ok", "klar", "ja gerne", "nein danke") picks the option or
    button of that label: one that begins with "Ja"/"Yes" (or "Nein"/"No")."""
    wanted = YES_STARTS if says_yes(text) else NO_STARTS if says_no(text) else ()
    return (bare_words(label).split() or [""])[0] in wanted


async def _yes_or_no_choice(ctx: Context, slot: Slot, text: str) -> str | None:
    """A plain yes or no at a step whose options are a yes and a no ("Ja, Namen nennen" /
    "Nein"): that option."""
    if slot.choices is None:
        return None
    found = [c.value for c in await slot.choices(ctx) if picks_yes_or_no(text, ctx.t(c.label))]
    return found[0] if len(found) == 1 else None


def inside_a_word(typed: str, label: str) -> bool:
    """Whether the typed text is only the inside or end of one of the label's words: "dortmund"
    is not "Lütgendortmund", "it" not "sozialarbeit" (a partial match scores high, but names
    another thing)."""
    return typed in label and re.search(rf"(?<!\w){re.escape(typed)}", label) is None


async def answer(ctx: Context, text: str) -> list[Reply]:
    """Take a typed answer for the open form's current step."""
    form, state = active_form(ctx), _form_state(ctx)
    if form is None or state is None:
        cancel_form(ctx)
        return []
    if gone := await form.gone(ctx, state["args"]):  # re-checked at every step
        cancel_form(ctx)
        return [Reply(ctx.t(gone))]
    if state["slot"] == CONFIRM_STEP:
        return await _answer_confirmation(ctx, form, text)
    slot = next(s for s in form.slots if s.name == state["slot"])
    if is_pause(text):  # "moment bitte": wait, keep the question open
        return [await _question_after(ctx, slot, "form.waiting")]
    if await _asks_for_help(ctx, slot, text):  # "hilfe", "was soll ich hier machen?"
        return [await _question_after(ctx, slot, "form.help")]
    if slot.choices is not None:
        value = await _match_choice(ctx, slot, text) or await _yes_or_no_choice(ctx, slot, text)
        if value is None:
            hint = await _another_request(ctx, text)  # a new request: no "pick an option"
            return [*(hint or [Reply(ctx.t("form.pick_option"))]), await _question(ctx, slot)]
    else:
        try:
            value = await _parse(ctx, slot, text)
        except Invalid as invalid:
            # a new request: not the answer's error (a changed earlier answer is no request)
            hint = [] if isinstance(invalid, Changed) else await _another_request(ctx, text)
            error = Reply(ctx.t(invalid.key, **invalid.values))
            return [*(hint or [error]), await _question(ctx, slot)]
    state["values"][slot.name] = value
    replies = await _advance(ctx, form)
    free = slot.choices is None and slot.suggest is None and isinstance(slot.parse, FreeText)
    if free and await _other_service(ctx, form, text):
        replies = [Reply(ctx.t("form.taken_as_answer")), *replies]  # said, nothing lost
    return replies


async def _question_after(ctx: Context, slot: Slot, key: str) -> Reply:
    """The slot's question again, after a line of its own (waiting, how to answer)."""
    question = await _question(ctx, slot)
    return Reply(f"{ctx.t(key)}\n\n{question.text}", question.buttons)


async def _asks_for_help(ctx: Context, slot: Slot, text: str) -> bool:
    """Whether an answer asks how to answer: a help word ("hilfe", "?") or, in a short message
    at a step with options or a parsed value, a sure reading as help ("ich verstehe das nicht,
    was soll ich hier machen?"; a free text such as a message to an employer may offer help)."""
    if bare_words(text) in HELP_WORDS or set(text.strip()) == {"?"}:  # "?", "??"
        return True
    free = slot.choices is None and slot.suggest is None and isinstance(slot.parse, FreeText)
    if free or not 3 <= len(text.split()) <= HELP_MAX_WORDS:
        return False
    intent = (await ctx.understand())["intent"]
    return intent["name"] == "help" and intent["confidence"] >= ANOTHER_REQUEST_CONFIDENCE


# answers that are no other request, however sure the NLU is
NOT_A_REQUEST = {"nlu_fallback", "affirm", "deny", "cancel", "greet", "thanks", "goodbye"}
ANOTHER_REQUEST_CONFIDENCE = 0.7


HELP_MAX_WORDS = 10
# what a free text may well say without asking anything ("ich spreche fließend englisch")
NOT_ANOTHER_SERVICE = NOT_A_REQUEST | {"change_language", "help"}


async def _sure_request(ctx: Context, text: str, not_requests: set[str]) -> str | None:
    """The intent an answer of three words or more reads as surely (not one of not_requests),
    or None: a request that may not be the answer."""
    if len(text.split()) < 3:
        return None
    intent = (await ctx.understand())["intent"]
    if intent["name"] in not_requests or intent["confidence"] < ANOTHER_REQUEST_CONFIDENCE:
        return None
    return intent["name"]


async def _other_service(ctx: Context, form: type[Form], text: str) -> bool:
    """Whether a typed free-text answer reads surely as another service's request ("what are
    the opening hours of cafe rosa?" as the message to an employer): it is kept, and said."""
    intent = await _sure_request(ctx, text, NOT_ANOTHER_SERVICE)
    route = registry.intents.get(intent) if intent else None
    return route is not None and not same_service(route.handler.__module__, form.__module__)


def same_service(module: str, other: str) -> bool:
    """Whether two handler modules serve one service: their names share a word
    (handlers.parent_evenings and handlers.evenings_staff, handlers.ppe and ppe_coordination)."""

    def words(name: str) -> set[str]:
        return {word.removesuffix("s") for word in name.rpartition(".")[2].split("_")}

    return bool(words(module) & words(other))


# a question, not an answer tried: "welche elternabende gibt es …", "was ist mit meiner bestellung"
QUESTION = re.compile(
    r"\?\s*$|^\W*(?:welche[rsnm]?|was|wie|wann|wo|wer|warum|wieso|gibt es|gibts|hast du|habt ihr"
    r"|kannst du|which|what|what's|whats|how|when|where|who|why|is there|are there|do you"
    r"|can you|can i)\b",
    re.IGNORECASE,
)


async def _another_request(ctx: Context, text: str) -> list[Reply]:
    """When an answer that does not fit reads as a new request ("welche jobs gibt es" at the
    amount step): how to leave the form and ask it (the form stays open)."""
    intent = await _sure_request(ctx, text, NOT_A_REQUEST)
    if intent is None:
        return []
    route = registry.intents.get(intent)
    origin = (_form_state(ctx) or {}).get("origin")
    if route is not None and route.name == origin:  # "1001 cartons of gloves" in the PPE form
        return []
    if re.search(r"\d", text):  # "auf donnerstag 20 uhr", "3 plätze mehr": an answer tried
        return []
    form = active_form(ctx)
    same = route is not None and form and same_service(route.handler.__module__, form.__module__)
    if same and not QUESTION.search(text):
        return []  # "bewerbungen bitte an frau schulz" for a posting's contact: its own error
    return [Reply(ctx.t("form.another_request"))]  # "was ist mit meiner bestellung" too


async def _parse(ctx: Context, slot: Slot, text: str) -> Any:
    value = slot.parse(ctx, text)
    if hasattr(value, "__await__"):
        value = await value
    return value


async def _answer_confirmation(ctx: Context, form: type[Form], text: str) -> list[Reply]:
    if says_yes(text, ctx.t(form.confirm_label)):  # "ja gerne", "publish it"
        return await _submit(ctx, form)
    word = bare_words(text)
    if says_no(text):
        cancel_form(ctx)
        return [Reply(ctx.t("form.cancelled"))]
    state = _form_state(ctx)
    if state is not None and await form.revise(ctx, state["values"], state["args"]):
        return await _advance(ctx, form)  # "doch lieber 50 euro": the summary with 50 €
    intent = (await ctx.understand())["intent"]["name"]
    # "ja, aber lieber 30 euro", "ok warte kurz": a yes with a change or a pause is no yes
    hedged = bool(re.search(r"\d", word)) or bool(set(word.split()) & HEDGE_WORDS)
    # "yes, cancel it" under a plain "Confirm": a yes and a cancel at once – asked again
    mixed = word.split()[0] in YES_WORDS | CONFIRM_VERBS if word else False
    if intent == "affirm" and not hedged:
        return await _submit(ctx, form)
    if intent in ("deny", "cancel") and not mixed:
        cancel_form(ctx)
        return [Reply(ctx.t("form.cancelled"))]
    hint = await _another_request(ctx, text)  # "wann hat die bäckerei müller offen"
    if hint:
        return [*hint, *await reask(ctx)]  # the summary again, to confirm when ready
    return [Reply(ctx.t("form.confirm_or_cancel"), _confirm_buttons(ctx, form))]


async def reask(ctx: Context) -> list[Reply]:
    """The open form's pending question again (after an interruption)."""
    form, state = active_form(ctx), _form_state(ctx)
    if form is None or state is None:
        return []
    if state["slot"] == CONFIRM_STEP:
        return await _advance(ctx, form)
    slot = next(s for s in form.slots if s.name == state["slot"])
    return [await _question(ctx, slot)]


@button("form.choose")
async def choose(ctx: Context, value: str) -> list[Reply]:
    """A choice button of the open form was pressed."""
    form, state = active_form(ctx), _form_state(ctx)
    if form is None or state is None or state["slot"] == CONFIRM_STEP:
        return [Reply(ctx.t("button.expired"))]
    if gone := await form.gone(ctx, state["args"]):
        cancel_form(ctx)
        return [Reply(ctx.t(gone))]
    slot = next(s for s in form.slots if s.name == state["slot"])
    source = slot.choices or slot.suggest
    if source is None or value not in {c.value for c in await source(ctx)}:
        return [Reply(ctx.t("button.expired")), await _question(ctx, slot)]
    if slot.choices is None:
        try:
            value = await _parse(ctx, slot, value)
        except Invalid as invalid:
            return [Reply(ctx.t(invalid.key, **invalid.values)), await _question(ctx, slot)]
    state["values"][slot.name] = value
    return await _advance(ctx, form)


@button("form.confirm")
async def confirm(ctx: Context) -> list[Reply]:
    """The confirm button of the open form was pressed."""
    form, state = active_form(ctx), _form_state(ctx)
    if form is None or state is None or state["slot"] != CONFIRM_STEP:
        return [Reply(ctx.t("button.expired"))]
    return await _submit(ctx, form)


@button(FORM_CANCEL)
async def cancel(ctx: Context) -> list[Reply]:
    """The cancel button of the open form was pressed."""
    return [Reply(ctx.t("form.cancelled" if cancel_form(ctx) else "form.nothing_to_cancel"))]
