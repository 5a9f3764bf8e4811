"""Users, their platform identities, roles and invite codes."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, make_transient_to_detached, mapped_column, relationship

from storage.base import Base, UTCDateTime, dialect_of, utcnow
from storage.compiled_writes import execute_write
from storage.privacy import before_erase, exporter, rows_linked_to
from storage.sqlite_connection import WITH_NEXT_TRIP

ROLES = (
    "employer",
    "shop_owner",
    "school_staff",
    "ppe_requester",
    "ppe_coordinator",
    "admin",
)
ROLES_WITH_ORG = ("employer", "shop_owner", "school_staff", "ppe_requester")
INVITE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
INVITE_LIFETIME = timedelta(days=14)
SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often per identity


class User(Base):
    """A person using citybot, on any platform."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    language: Mapped[str] = mapped_column(String(2))
    # where the language came from (bot/language_choice.py): "platform", "detected",
    # "chosen", or None while undecided (no locale and no message that told it yet)
    language_source: Mapped[str | None] = mapped_column(String(10))
    # messages in a row written confidently in the other language; the one offer made
    language_streak: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    language_offer: Mapped[str | None] = mapped_column(String(2))
    display_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    identities: Mapped[list[Identity]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    roles: Mapped[list[RoleGrant]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class Identity(Base):
    """A user's address on one platform (Telegram chat user id, Matrix id, console name)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(255))
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # the user's private chat with the bot, once they wrote there: the bot may write to it
    private_chat_id: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship(back_populates="identities")


class RoleGrant(Base):
    """A role a user holds, optionally for one organisation (company, shop, school, department)."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("user_id", "role", "org"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    org: Mapped[str | None] = mapped_column(String(200))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InviteCode(Base):
    """A single-use code that grants a role when claimed with /claim."""

    __tablename__ = "invite_codes"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    role: Mapped[str] = mapped_column(String(30))
    org: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


async def get_or_create_user(
    db: AsyncSession,
    platform: str,
    external_id: str,
    *,
    language: str,
    display_name: str | None = None,
    chat_id: str | None = None,
    group: bool = False,
) -> tuple[User, bool]:
    """The user behind a platform identity, created on first contact; returns (user, created).

    A message in a private chat (chat_id, default the user's own id) records that chat as
    the one the bot may write to and makes the user reachable again; one in a group does not.
    """
    private_chat = None if group else (chat_id or external_id)
    identity = await db.scalar(
        select(Identity).where(Identity.platform == platform, Identity.external_id == external_id)
    )
    if identity is not None:
        user = await db.get(User, identity.user_id)
        assert user is not None
        touch(identity, user, display_name=display_name, private_chat=private_chat)
        return user, False
    user = await create_user(
        db,
        platform,
        external_id,
        language=language,
        display_name=display_name,
        private_chat=private_chat,
    )
    return user, True


def touch(
    identity: Identity,
    user: User,
    *,
    display_name: str | None,
    private_chat: str | None,
    now: datetime | None = None,
) -> None:
    """A known user wrote: note when (at most every SEEN_EVERY), their name and private chat.

    Only what changed is set, so an ordinary turn writes nothing here; `last_seen_at`
    (which identity to reach a user on, retention) need not be finer than a minute.
    """
    now = now or utcnow()
    if identity.last_seen_at is None or now - identity.last_seen_at >= SEEN_EVERY:
        identity.last_seen_at = now
        user.last_seen_at = now
    if private_chat is not None:
        if not identity.reachable:
            identity.reachable = True
        if identity.private_chat_id != private_chat:
            identity.private_chat_id = private_chat
    if display_name and user.display_name != display_name:
        user.display_name = display_name


async def create_user(
    db: AsyncSession,
    platform: str,
    external_id: str,
    *,
    language: str,
    language_source: str | None = None,
    display_name: str | None = None,
    private_chat: str | None = None,
) -> User:
    """A new user with their first platform identity (first contact), in one trip.

    Core INSERTs instead of the ORM's flush (its unit of work and a trip per row): on SQLite
    the user's INSERT rides along with the identity's, which takes the user's id from
    `last_insert_rowid()` on the same connection; on PostgreSQL both are one statement. The
    rows come back as the session's persistent objects, as if just loaded: later changes in
    the turn are flushed as ever.
    """
    now = utcnow()
    values = {"language": language, "language_source": language_source,
              "display_name": display_name, "now": now, "platform": platform,
              "external_id": external_id, "private_chat_id": private_chat}
    if dialect_of(db) == "postgresql":
        row = (await db.execute(_first_contact_statement(), values)).one()
    else:
        await execute_write(db, _new_user_statement(),
                            {key: values[key] for key in _USER_VALUES})
        row = (await db.execute(_new_identity_statement(),
                                {key: values[key] for key in _IDENTITY_VALUES})).one()
    identity_id, user_id = row
    identity = Identity(id=identity_id, user_id=user_id, platform=platform,
                        external_id=external_id, last_seen_at=now, private_chat_id=private_chat,
                        **_NEW_IDENTITY)
    user = User(id=user_id, language=language, language_source=language_source,
                display_name=display_name, created_at=now, last_seen_at=now, roles=[],
                identities=[identity], **_NEW_USER)
    for loaded in (user, identity):
        make_transient_to_detached(loaded)  # its values as stored, nothing to flush
    db.add(user)  # persistent, with its identity
    return user


_USER_VALUES = ("language", "language_source", "display_name", "now")
_NEW_USER = {"language_streak": 0, "language_offer": None}  # a new user's other columns
_NEW_IDENTITY = {"reachable": True}  # a new identity's other column
_IDENTITY_VALUES = ("platform", "external_id", "private_chat_id", "now")


def _user_row() -> dict[str, Any]:
    """A new user's column values as bound parameters (named as in create_user)."""
    table = User.__table__
    now = bindparam("now", type_=table.c.created_at.type)
    return {"language": bindparam("language", type_=table.c.language.type),
            "language_source": bindparam("language_source", type_=table.c.language_source.type),
            "display_name": bindparam("display_name", type_=table.c.display_name.type),
            "created_at": now, "last_seen_at": now, **_NEW_USER}


def _identity_row(user_id: Any) -> dict[str, Any]:
    """A new identity's column values as bound parameters, its user's id from user_id."""
    table = Identity.__table__
    return {"user_id": user_id,
            "platform": bindparam("platform", type_=table.c.platform.type),
            "external_id": bindparam("external_id", type_=table.c.external_id.type),
            "last_seen_at": bindparam("now", type_=table.c.last_seen_at.type),
            "private_chat_id": bindparam("private_chat_id", type_=table.c.private_chat_id.type),
            **_NEW_IDENTITY}


@cache
def _new_user_statement() -> Any:
    """SQLite: the new user's INSERT, riding along with the identity's (built once)."""
    return insert(User.__table__).prefix_with(WITH_NEXT_TRIP).values(_user_row())


@cache
def _new_identity_statement() -> Any:
    """SQLite: the new identity's INSERT right after its user's, on the same connection."""
    table = Identity.__table__
    return (insert(table).values(_identity_row(func.last_insert_rowid()))
            .returning(table.c.id, table.c.user_id))


@cache
def _first_contact_statement() -> Any:
    """PostgreSQL: the user's INSERT as a CTE the identity's INSERT takes its id from."""
    users = User.__table__
    new_user = insert(users).values(_user_row()).returning(users.c.id).cte("new_user")
    table = Identity.__table__
    row = _identity_row(new_user.c.id)
    return (insert(table)
            .from_select(list(row), select(*(_as_column(value) for value in row.values()))
                         .select_from(new_user))
            .returning(table.c.id, table.c.user_id))


def _as_column(value: Any) -> Any:
    """A value of an INSERT … SELECT's select list (constants as literals of their type)."""
    return literal(value) if isinstance(value, bool | int | str) else value


async def identities_of(db: AsyncSession, user_id: int) -> list[Identity]:
    """All platform identities of a user."""
    rows = await db.scalars(select(Identity).where(Identity.user_id == user_id))
    return list(rows)


def _new_code() -> str:
    raw = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(code: str) -> str:
    """An invite code as typed (any case, with or without dash) in its stored form."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else raw


async def create_invite(db: AsyncSession, role: str, org: str | None = None) -> InviteCode:
    """Create a single-use invite code for a role (an org is required for org-bound roles)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; known: {', '.join(ROLES)}")
    if role in ROLES_WITH_ORG and not (org and org.strip()):
        raise ValueError(f"role {role!r} needs an organisation (--org)")
    invite = InviteCode(
        code=_new_code(),
        role=role,
        org=org.strip() if org else None,
        expires_at=utcnow() + INVITE_LIFETIME,
    )
    db.add(invite)
    await db.flush()
    return invite


class InviteError(Exception):
    """An invite code that cannot be claimed; .reason is a message key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RoleHeld(InviteError):
    """An invite code for a role (and organisation) the user already holds – also one the user
    claimed before: no wrong guess, and an unused code stays unused."""

    def __init__(self, role: str, org: str | None) -> None:
        super().__init__("claim.already_held")
        self.role = role
        self.org = org


async def find_invite(db: AsyncSession, code: str) -> InviteCode | None:
    """The invite code as typed (any case, with or without dash), if it exists."""
    return await db.get(InviteCode, normalise_code(code))


async def holds_role(db: AsyncSession, user_id: int, role: str, org: str | None) -> bool:
    """Whether the user holds the role for that organisation (granted, not as an admin)."""
    found = await db.scalar(
        select(RoleGrant.id).where(
            RoleGrant.user_id == user_id, RoleGrant.role == role, RoleGrant.org == org
        )  # org None: IS NULL
    )
    return found is not None


async def claim_invite(db: AsyncSession, user: User, code: str) -> RoleGrant:
    """Grant the role of an unused, unexpired invite code to the user; RoleHeld where the user
    holds that role already (the code stays unused) or claimed this code before."""
    invite = await db.get(InviteCode, normalise_code(code), with_for_update=True)
    if invite is None:
        raise InviteError("claim.unknown")
    if invite.claimed_at is not None and invite.claimed_by == user.id:
        raise RoleHeld(invite.role, invite.org)  # the same code sent again
    if invite.claimed_at is not None:
        raise InviteError("claim.used")
    if invite.expires_at < utcnow():
        raise InviteError("claim.expired")
    if await holds_role(db, user.id, invite.role, invite.org):
        raise RoleHeld(invite.role, invite.org)
    invite.claimed_by = user.id
    invite.claimed_at = utcnow()
    grant = RoleGrant(user_id=user.id, role=invite.role, org=invite.org)
    db.add(grant)
    await db.flush()
    await db.refresh(user, ["roles"])
    return grant


async def delete_user(db: AsyncSession, user: User) -> None:
    """Erase a user and everything that cascades from them."""
    await before_erase(db, user.id)
    await db.execute(delete(User).where(User.id == user.id))
    db.expunge(user)


@exporter("invite_codes_claimed")
async def export_claimed_codes(db: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """The invite codes the user claimed: which role, for which organisation, when."""
    codes = await rows_linked_to(db, InviteCode.claimed_by, user_id, InviteCode.claimed_at)
    return [
        {
            "role": c.role,
            "org": c.org,
            "claimed_at": c.claimed_at.isoformat() if c.claimed_at else None,
        }
        for c in codes
    ]


@exporter("account")
async def export_account(db: AsyncSession, user_id: int) -> list[dict[str, object]]:
    """The user's account, identities and roles."""
    user = await db.get(User, user_id)
    if user is None:
        return []
    identities = await identities_of(db, user_id)
    roles = list(await db.scalars(select(RoleGrant).where(RoleGrant.user_id == user_id)))
    return [
        {
            "user_id": user.id,
            "language": user.language,
            "language_source": user.language_source,
            "display_name": user.display_name,
            "created_at": user.created_at.isoformat(),
            "last_seen_at": user.last_seen_at.isoformat(),
            "identities": [{"platform": i.platform, "id": i.external_id} for i in identities],
            "roles": [{"role": r.role, "org": r.org} for r in roles],
        }
    ]
