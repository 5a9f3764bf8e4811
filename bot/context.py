"""What a handler gets: the user, their roles and language, the message, the data session."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import language_choice
from bot.config import Config
from bot.i18n import Translate, translator
from bot.messages import Incoming, Reply
from bot.ratelimit import Limits
from storage.users import User

if TYPE_CHECKING:
    from bot.forms import Form
    from nlu.base import NLUBackend


@dataclass
class Context:
    """One turn of a conversation, as seen by a handler."""

    db: AsyncSession
    user: User
    incoming: Incoming
    config: Config
    nlu: NLUBackend
    state: dict[str, Any] = field(default_factory=dict)
    parse: dict[str, Any] | None = None
    # the NLU's reading of this message taken before the transaction (the dispatcher's
    # preparse), used by the first understand(); its "language" is the user's at that moment
    preparsed: dict[str, Any] | None = None
    erased: bool = False
    private: bool = False  # set by a private route: the answer carries personal data
    limits: Limits = field(default_factory=Limits)  # the dispatcher's per-user limits
    route: str | None = None  # the handler the turn's route runs (module.name), set by Route

    @property
    def lang(self) -> str:
        """The user's language, 'de' or 'en'."""
        return self.user.language

    @property
    def t(self) -> Translate:
        """Texts in the user's language."""
        return translator(self.user.language)

    def set_language(self, language: str) -> None:
        """Change the user's language for this and later turns (an explicit, final choice)."""
        language_choice.choose(self.user, language)

    @property
    def intent(self) -> str | None:
        """The NLU intent of this message, if it went through the NLU."""
        return self.parse["intent"]["name"] if self.parse else None

    @property
    def entities(self) -> list[dict[str, Any]]:
        """The NLU entities of this message."""
        return list(self.parse["entities"]) if self.parse else []

    def entity(self, name: str, *, any_intent: bool = False) -> Any:
        """The value of the first entity of that type, or None.

        any_intent: also entities the NLU found but judged unrelated to the intent.
        """
        found = self.entities
        if any_intent and self.parse:
            found = self.parse.get("candidate_entities", found)
        return next((e["value"] for e in found if e["entity"] == name), None)

    async def understand(self, text: str | None = None) -> dict[str, Any]:
        """Run the NLU on this message's text (once) or on another text."""
        if text is None:
            if self.parse is None and self.preparsed is not None:
                self.parse = {**self.preparsed, "language": self.user.language}
            elif self.parse is None:
                self.parse = await self.nlu.parse(self.incoming.text, self.user.language)
            return self.parse
        return await self.nlu.parse(text, self.user.language)

    def has_role(self, role: str | tuple[str, ...]) -> bool:
        """Whether the user holds the role, or one of the roles (admins hold every role)."""
        wanted = (role,) if isinstance(role, str) else role
        return any(g.role in (*wanted, "admin") for g in self.user.roles)

    def orgs(self, role: str) -> list[str]:
        """The organisations for which the user holds an org-bound role."""
        return sorted({g.org for g in self.user.roles if g.role == role and g.org})

    async def start_form(self, form: type[Form], **args: Any) -> list[Reply]:
        """Begin a multi-step form, prefilled from this message's entities."""
        from bot.forms import start_form

        return await start_form(self, form, args)

    def refuse(self, role: str | tuple[str, ...]) -> list[Reply]:
        """The answer for an action the user's roles do not allow, saying why.

        An admin passes every role check but acts on an organisation's objects only with a
        grant for that organisation: without one they are told so, not refused the role.
        Of several roles the first is named.
        """
        wanted = (role,) if isinstance(role, str) else role
        name = self.t(f"roles.{wanted[0]}")
        if self.has_role(role) and not any(g.role in wanted for g in self.user.roles):
            return [Reply(self.t("roles.admin_needs_org", role=name))]
        return [Reply(self.t("roles.refused", role=name))]
