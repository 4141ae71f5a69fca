"""The ``plugins.auto_reply`` section of the configuration."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field, field_validator, model_validator

from civicbot import Duration, PluginConfig
from civicbot_auto_reply.matching import words_pattern
from civicbot_auto_reply.regex_safety import check_regex_safety
from civicbot_auto_reply.templates import check_template
from civicbot_auto_reply.texts import FALLBACK

#: A text, or texts by language ({fr: ..., en: ...}).
Localised = str | dict[str, str]

_ACCT = re.compile(r"^[\w.-]+(@[\w-]+(\.[\w-]+)+)?$", re.UNICODE)
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def _check_localised(value: Localised, what: str, pattern: str | None = None) -> Localised:
    texts = {"": value} if isinstance(value, str) else value
    if not texts:
        raise ValueError(f"{what}: give a text, or texts by language such as {{fr: ..., en: ...}}")
    for language, text in texts.items():
        if language and not _LANGUAGE.match(language):
            raise ValueError(f"{what}: {language!r} is not a language code (fr, en, de...)")
        check_template(text, pattern)
    return value


def _check_accts(values: list[str], what: str) -> list[str]:
    out = []
    for raw in values:
        acct = raw.strip().lstrip("@")
        if not _ACCT.match(acct):
            raise ValueError(f"{what}: {raw!r} is not an account such as "
                             "'comm@mastodon.example' (or 'comm' for a local account)")
        out.append(acct)
    return out


class Rule(PluginConfig):
    """One question the bot answers: keywords or a regular expression, and the reply."""

    keywords: list[str] = Field(default_factory=list)
    regex: str | None = None
    reply: Localised
    #: One line shown by the "aide" command (optional).
    help: Localised | None = None

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        for keyword in value:
            if not words_pattern(keyword):
                raise ValueError(f"keyword {keyword!r} has no letter nor digit")
        return value

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            import regex  # the engine that runs them (see matching.RegexMatcher)

            try:
                re.compile(value)
                regex.compile(value)
            except (re.error, regex.error) as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from exc
            check_regex_safety(value)
        return value

    @model_validator(mode="after")
    def _one_trigger(self) -> Rule:
        if bool(self.keywords) == (self.regex is not None):
            raise ValueError("a rule needs either 'keywords' (a list of words) or 'regex', "
                             "not both and not neither")
        _check_localised(self.reply, "reply", self.regex)
        if self.help is not None:
            _check_localised(self.help, "help")
        return self


class AutoReplyConfig(PluginConfig):
    """Answers to residents' mentions: commands, FAQ rules, fallback, etiquette, admins."""

    #: Accounts allowed to use the admin commands (pause, reprendre, statut).
    admins: list[str] = Field(default_factory=list)
    #: Bot accounts the plugin answers all the same (other bots are never answered).
    allow_bots: list[str] = Field(default_factory=list)
    #: After answering an account, ignore its mentions for this long ("0s" disables it).
    cooldown: Duration = timedelta(minutes=2)
    #: Most replies in one conversation (null: no limit).
    max_replies_per_thread: int | None = Field(default=3, ge=1)
    #: Reply to a mention nothing else answered; null: stay silent.
    fallback: Localised | None = Field(default_factory=lambda: dict(FALLBACK))
    #: The FAQ: the most specific matching rule answers (a keyword of several words whose words
    #: are all in the message beats one word); on a tie, the first in the file.
    rules: list[Rule] = Field(default_factory=list)

    @field_validator("admins")
    @classmethod
    def _admins(cls, value: list[str]) -> list[str]:
        return _check_accts(value, "admins")

    @field_validator("allow_bots")
    @classmethod
    def _allow_bots(cls, value: list[str]) -> list[str]:
        return _check_accts(value, "allow_bots")

    @field_validator("cooldown")
    @classmethod
    def _cooldown(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("cooldown cannot be negative (use 0s to disable it)")
        return value

    @field_validator("fallback")
    @classmethod
    def _fallback(cls, value: Localised | None) -> Localised | None:
        if value is not None:
            _check_localised(value, "fallback")
        return value
