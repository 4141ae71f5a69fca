"""Errors raised by civicbot. None of them ever calls ``sys.exit``: the CLI maps them to exit codes."""

from __future__ import annotations


class CivicbotError(Exception):
    """Base class of every error civicbot raises on purpose."""


class ConfigError(CivicbotError):
    """The configuration is invalid.

    ``problems`` holds one human line per problem, each naming the file, line and key path,
    e.g. ``config.yaml:12: plugins.weather.latitude: expected a number``.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class PluginError(CivicbotError):
    """A plugin misbehaved while registering something (duplicate job id, duplicate command...)."""


class PostRefused(CivicbotError):
    """The posting pipeline refused a draft (a ``prepare_post`` veto, media without alt text...)."""


class PostVetoed(PostRefused):
    """Raise this from ``civicbot_prepare_post`` to stop a draft from being posted."""


class MissingAltText(PostRefused):
    """A draft carries media without a description (alt text)."""


class PublishError(CivicbotError):
    """Posting failed for good after retries; the draft stays pending and is resent later."""


class AuthenticationError(CivicbotError):
    """The instance refused the access token (401/403): the bot must stop, not retry."""


class JobError(CivicbotError):
    """A job could not build its posts (for example every source of a digest failed)."""


class LeaseLostError(PublishError):
    """This daemon no longer holds the account's lease (another daemon took it over): nothing
    is written or posted for that account; the draft stays pending for the new owner."""


class StateInUseError(CivicbotError):
    """Another daemon already uses this SQLite state file (SQLite is single-process)."""


class StateError(CivicbotError):
    """The state file is empty or damaged: starting would forget what was posted and answered."""
