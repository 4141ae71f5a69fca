"""Mention commands ("agenda", "météo", "aide") that any plugin can register for the auto-replies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civicbot.bot import Bot


@dataclass
class CommandContext:
    """What a command handler receives: the bot, the mention and the words after the command.

    ``sender`` is the account that wrote the mention as ``user@domain`` (not its display name);
    ``language`` is the language to answer in; ``is_admin`` tells whether the sender is listed in
    the auto-reply plugin's ``admins``.
    """

    bot: Bot
    status: dict[str, Any]
    notification: dict[str, Any]
    sender: str
    args: str = ""
    language: str = "fr"
    is_admin: bool = False


@dataclass(frozen=True)
class Command:
    """A command answered in reply to a mention.

    ``names`` are the words that trigger it ("agenda", "ce week-end"), matched case- and
    accent-insensitively by the auto-reply plugin; ``help`` is the one line shown by "aide";
    the handler returns the reply text (without the @mention) or ``None`` for no reply.
    """

    names: tuple[str, ...]
    help: str
    handler: Callable[[CommandContext], str | None]
    admin_only: bool = False
    #: Set by the host: the plugin that registered the command.
    plugin: str = field(default="", compare=False)

    @property
    def name(self) -> str:
        return self.names[0]
