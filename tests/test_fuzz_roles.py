"""Fuzzing as users with different roles: random texts, commands and button presses (offered,
forged, signed for another chat, old) in private and group chats. After every step the
checks of tests/invariants.py hold, and only the right people changed anything."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from bot.app import App
from bot.buttons import sign
from bot.i18n import translator
from bot.keys import load_secret
from bot.messages import Incoming, Reply, flat_buttons
from storage import outbox
from storage.conversations import ConversationState
from storage.jobs import Employer, JobPosting
from storage.users import Identity, RoleGrant, get_or_create_user
from tests.invariants import DB_INVARIANTS, STEP_CHECKS, Step
from tests.personas import ORG_A, ORG_B, PERSONAS

USERS = ["citizen", "employer_a", "employer_b", "admin", "ppe_coordinator", "newcomer"]
GROUP = "group-42"
DELETE_QUESTIONS = {translator(lang)("privacy.delete_question") for lang in ("de", "en")}
_events = itertools.count()
# about 1,000 steps in all; more with $CITYBOT_FUZZ_EXAMPLES (each example is ~35 steps)
EXAMPLES = int(os.environ.get("CITYBOT_FUZZ_EXAMPLES", "30"))

MESSAGES = [
    "hallo",
    "hi",
    "pflegejobs in der innenstadt",
    "any part-time jobs?",
    "sag mir bescheid bei neuen pflegejobs",
    "ja",
    "nein",
    "yes",
    "abbrechen",
    "1",
    "2",
    "3",
    "9",
    "Details",
    "Bewerben",
    "Mehr",
    "Bestätigen",
    "wir suchen eine pflegekraft",
    "lösch alle meine daten",
    "welche daten habt ihr über mich",
    "Ich möchte mich gern bewerben, ich habe viel Erfahrung.",
    "jobs@example.org",
    "0231 123456",
    "abc\ud800def",
    "nul\x00byte",
    "\x1b[31mred",
    "🙂" * 30,
    "x" * 5000,
]
COMMANDS = [
    "/start",
    "/help",
    "/cancel",
    "/postjob",
    "/myjobs",
    "/applications",
    "/alerts",
    "/roles",
    "/mydata",
    "/deletedata",
    "/language en",
    "/invite",
    "/invite employer Fuzz GmbH",
    "/claim ZZZZ-ZZZZ",
    "/start job-1",
    "/start job-99999999999999999999",
    "/start nope-1",
    "/start job-\x00",
    # the other services: personal lists, owners' and coordinators' commands
    "/vouchers",
    "/balance K7QF-2M9X",
    "/redeem K7QF-2M9X 5",
    "/sales",
    "/following",
    "/follow café rosa",
    "/myshop",
    "/update",
    "/appointments",
    "/evenings",
    "/cancel_evening",
    "/ppe",
    "/ppestatus",
    "/ppequeue",
    "/ppeapprove 1",
    "/ppesupply gloves 100 donation",
]
PAYLOADS = [
    "account.delete_confirm",
    "account.delete",
    "account.keep",
    "job.mine",
    "form.confirm",
    "form.cancel",
    "form.choose:1",
    "form.choose:nursing",
    "lang.set:xx",
    "job.more:-3",
    "help",
    "nonexistent:1",
]
ID_PAYLOADS = ["job.close", "job.details", "job.apply", "alert.delete"]

text = st.one_of(st.sampled_from(MESSAGES), st.text(max_size=60))
payload_strategy = st.one_of(
    st.sampled_from(PAYLOADS),
    st.builds(
        lambda action, n: f"{action}:{n}",
        st.sampled_from(ID_PAYLOADS),
        st.one_of(st.integers(-3, 80), st.integers(2**31 - 2, 2**70)),
    ),
)
action = st.one_of(
    st.tuples(st.just("say"), text),
    st.tuples(st.just("say"), st.sampled_from(COMMANDS)),
    st.tuples(st.just("press"), st.integers(0, 12)),
    st.tuples(
        st.just("forge"), payload_strategy, st.sampled_from(["bare", "other_chat", "this_chat"])
    ),
)
step = st.tuples(st.sampled_from(USERS), st.booleans(), action)


@dataclass
class Model:
    """What the test knows: the last buttons offered to each user in each chat, and whether
    the erase question is open there."""

    offered: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    asked_delete: set[tuple[str, str]] = field(default_factory=set)


async def ensure_personas(app: App) -> None:
    """The fuzzed users exist with their roles (again, after one erased themselves), and no
    conversation is open (the model of a new example starts empty)."""
    async with app.sessions() as db, db.begin():
        await db.execute(delete(ConversationState))
        for name in USERS:
            user, _ = await get_or_create_user(db, "console", name, language="de")
            held = {(g.role, g.org) for g in user.roles}
            for role, org in PERSONAS.get(name, []):
                if (role, org) not in held:
                    db.add(RoleGrant(user_id=user.id, role=role, org=org))


async def job_statuses(app: App) -> dict[int, tuple[str, str]]:
    """Every posting's status and organisation."""
    async with app.sessions() as db:
        rows = await db.execute(
            select(JobPosting.id, JobPosting.status, Employer.name).join(
                Employer, Employer.id == JobPosting.employer_id
            )
        )
        return {job_id: (status, org) for job_id, status, org in rows}


async def exists(app: App, user: str) -> bool:
    """Whether the user's identity (and so the user) still exists."""
    async with app.sessions() as db:
        found = await db.scalar(
            select(Identity.id).where(Identity.platform == "console", Identity.external_id == user)
        )
        return found is not None


def build(app: App, model: Model, user: str, in_group: bool, act: tuple) -> Incoming:
    """The Incoming for a step (a press of an offered button is signed like the transport)."""
    chat = GROUP if in_group else user
    fields = {
        "platform": "console",
        "chat_id": chat,
        "user_id": user,
        "event_id": f"fuzz-{next(_events)}",
        "is_group": in_group,
        "locale": "de",
    }
    secret = load_secret(app.config)
    if act[0] == "say":
        line = act[1]
        kind = "command" if line.startswith("/") else "text"
        return Incoming(**fields, kind=kind, text=line)
    if act[0] == "press":
        offered = model.offered.get((chat, user), [])
        if not offered:
            return Incoming(**fields, text=str(act[1] + 1))
        data = offered[act[1] % len(offered)]
        return Incoming(**fields, kind="button", payload=sign(secret, chat, data))
    data, how = act[1], act[2]
    if how == "bare":
        return Incoming(**fields, kind="button", payload=data)
    signed_for = "somewhere-else" if how == "other_chat" else chat  # this_chat: an old button
    return Incoming(**fields, kind="button", payload=sign(secret, signed_for, data))


def roles_of(name: str) -> tuple[str, ...]:
    """The roles the persona was given."""
    return tuple(role for role, _org in PERSONAS.get(name, []))


def employer_orgs(name: str) -> set[str | None]:
    """The organisations the persona is an employer of."""
    return {org for role, org in PERSONAS.get(name, []) if role == "employer"}


async def check_step(
    app: App, model: Model, user: str, incoming: Incoming, replies: list[Reply]
) -> None:
    """Every registered check, and the model's own rules about erasure."""
    for check in STEP_CHECKS:
        await check(Step(app, incoming, replies, user, roles_of(user)))
    async with app.sessions() as db:
        for invariant in DB_INVARIANTS:
            await invariant(db)
    chat = incoming.chat_id
    if not await exists(app, user):
        assert (chat, user) in model.asked_delete, "erased without being asked in this chat"
        model.asked_delete = {key for key in model.asked_delete if key[1] != user}
        model.offered = {key: v for key, v in model.offered.items() if key[1] != user}
        return
    if any(r.text in DELETE_QUESTIONS for r in replies):
        model.asked_delete.add((chat, user))
    if replies or incoming.kind != "text":
        model.offered[(chat, user)] = [b.payload for b in flat_buttons(replies)]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=20, max_size=50))
async def test_random_users_texts_and_buttons_break_nothing(app, steps):
    model = Model()
    await ensure_personas(app)
    for user, in_group, act in steps:
        incoming = build(app, model, user, in_group, act)
        before = await job_statuses(app)
        replies = await app.dispatcher.handle(incoming)
        after = await job_statuses(app)
        for job_id, (status, org) in after.items():
            was = before.get(job_id, ("new", org))[0]
            if status != was:
                assert org in employer_orgs(user), f"{user} changed a posting of {org}"
        await check_step(app, model, user, incoming, replies)


async def test_the_fuzzed_employers_have_different_organisations():
    assert employer_orgs("employer_a") == {ORG_A} and employer_orgs("employer_b") == {ORG_B}


async def test_an_application_begun_in_a_group_goes_on_privately(app):
    """Found by the fuzz test: "Bewerben" pressed in a group, the application's summary (the
    applicant's message) was shown to the group. The form a private route opens stays
    private: every question and the summary go to the applicant's private chat."""
    await ensure_personas(app)
    model = Model()
    message = "Ich möchte mich gern bewerben, ich habe viel Erfahrung. Tel. 0231 555 1234"
    script = [
        (False, ("say", "hallo")),  # the bot knows the private chat
        (True, ("say", "/start job-1")),
        (True, ("press", 0)),  # Bewerben
        (True, ("say", message)),
        (True, ("say", "nein")),  # do not share the name: the summary follows
    ]
    group_texts = []
    for in_group, act in script:
        incoming = build(app, model, "citizen", in_group, act)
        replies = await app.dispatcher.handle(incoming)
        await check_step(app, model, "citizen", incoming, replies)
        group_texts += [r.text for r in replies] if in_group else []
    assert not any(message in t for t in group_texts)
    async with app.sessions() as db:
        rows = await db.scalars(
            select(outbox.OutboxMessage).where(outbox.OutboxMessage.recipient == "citizen")
        )
        private = [r.text for row in rows for r in outbox.deserialise(row.payload)]
    assert any(message in t for t in private), private
