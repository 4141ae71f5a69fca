"""The public API is pinned: changing it is a deliberate act that updates this test."""

from __future__ import annotations

import inspect

import civicbot
from civicbot import hookspecs

PUBLIC = [
    "PREVIOUS", "AuthenticationError", "Bot", "CivicbotError", "Command", "CommandContext",
    "ConfigError", "ConfigPath", "CronExpression", "Duration", "Job", "JobContext", "JobError", "Media",
    "MissingAltText", "PluginConfig", "PluginError", "PostDraft", "PostRefused", "PostVetoed",
    "PublishError", "PublishResult", "Schedule", "TimeZoneName", "WebUrl", "__version__",
    "at", "camel_hashtag", "cron",
    "every", "hookimpl", "hookspec", "html_to_text", "mastodon_length",
    "template_sandbox",
    "FetchError", "FetchResult", "Fetcher", "LastGood",
    "split_text", "PerBot", "Channel", "ChannelNames", "ChannelRefused", "ChannelUnavailable",
    "Progress", "QueuedItem",
]


def test_public_api_is_pinned():
    assert sorted(civicbot.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert hasattr(civicbot, name), name


def test_every_hook_is_prefixed_typed_and_documented_with_an_example():
    hooks = [(n, f) for n, f in inspect.getmembers(hookspecs, inspect.isfunction)
             if hasattr(f, "civicbot_spec")]
    assert len(hooks) >= 9
    for name, func in hooks:
        assert name.startswith("civicbot_"), name
        doc = inspect.getdoc(func) or ""
        assert "Fires" in doc, f"{name}: say when it fires"
        assert "Example::" in doc, f"{name}: give an example"
        signature = inspect.signature(func)
        for parameter in signature.parameters.values():
            assert parameter.annotation is not inspect.Parameter.empty, (name, parameter)
        assert signature.return_annotation is not inspect.Signature.empty, name
