"""civicbot: Mastodon bots for public institutions, built of pluggy plugins.

The public API is exactly what ``__all__`` lists (pinned by a test)::

    from civicbot import Bot, hookimpl, PostDraft, Media
"""

from civicbot.__about__ import __version__
from civicbot.bot import Bot
from civicbot.channels import Channel, ChannelRefused, ChannelUnavailable, Progress, QueuedItem
from civicbot.commands import Command, CommandContext
from civicbot.config_types import (
    ChannelNames,
    ConfigPath,
    CronExpression,
    Duration,
    PluginConfig,
    TimeZoneName,
    WebUrl,
)
from civicbot.drafts import PREVIOUS, Media, PostDraft
from civicbot.errors import (
    AuthenticationError,
    CivicbotError,
    ConfigError,
    JobError,
    MissingAltText,
    PluginError,
    PostRefused,
    PostVetoed,
    PublishError,
)
from civicbot.fetch import Fetcher, FetchError, FetchResult
from civicbot.hookspecs import hookimpl, hookspec
from civicbot.jobs import Job, JobContext, Schedule, at, cron, every
from civicbot.last_good import LastGood
from civicbot.per_bot import PerBot
from civicbot.publisher import PublishResult
from civicbot.splitting import split_text
from civicbot.templating import template_sandbox
from civicbot.text import camel_hashtag, html_to_text, mastodon_length

__all__ = [
    "PREVIOUS",
    "AuthenticationError",
    "Bot",
    "Channel",
    "ChannelNames",
    "ChannelRefused",
    "ChannelUnavailable",
    "CivicbotError",
    "Command",
    "CommandContext",
    "ConfigError",
    "ConfigPath",
    "CronExpression",
    "Duration",
    "FetchError",
    "FetchResult",
    "Fetcher",
    "Job",
    "JobContext",
    "JobError",
    "LastGood",
    "Media",
    "MissingAltText",
    "PerBot",
    "PluginConfig",
    "PluginError",
    "PostDraft",
    "PostRefused",
    "PostVetoed",
    "Progress",
    "PublishError",
    "PublishResult",
    "QueuedItem",
    "Schedule",
    "TimeZoneName",
    "WebUrl",
    "__version__",
    "at",
    "camel_hashtag",
    "cron",
    "every",
    "hookimpl",
    "hookspec",
    "html_to_text",
    "mastodon_length",
    "split_text",
    "template_sandbox",
]
