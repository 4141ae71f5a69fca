"""Logging: JSON lines, and no secret ever written."""

from __future__ import annotations

import io
import json

import structlog

from civicbot.logging import REDACTED, Redactor, configure_logging


def test_json_lines_redact_known_secrets_and_secret_keys():
    stream = io.StringIO()
    configure_logging("json", "info", stream=stream)
    from civicbot.logging import REDACTOR

    REDACTOR.add("tok-SECRET-123")
    log = structlog.get_logger("t")
    log.info("connecting", url="https://m.example/api?access_token=tok-SECRET-123",
             access_token="tok-SECRET-123", api_key="k", dedup_key="weather:FRB05:1",
             header="Authorization: Bearer tok-SECRET-123", nested={"token": "x", "ok": 1})
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert "tok-SECRET-123" not in stream.getvalue()
    assert line["access_token"] == REDACTED and line["api_key"] == REDACTED
    assert line["dedup_key"] == "weather:FRB05:1"
    assert line["nested"] == {"token": REDACTED, "ok": 1}
    assert line["header"] == f"Authorization: Bearer {REDACTED}"


def test_bearer_and_query_tokens_are_masked_without_knowing_them():
    redactor = Redactor()
    assert redactor.scrub("GET /api/v1/streaming?access_token=abcdef") == (
        f"GET /api/v1/streaming?access_token={REDACTED}")
    assert redactor.scrub("Bearer abc.def-123") == f"Bearer {REDACTED}"


def test_plugin_secrets_from_the_config_are_redacted(civicbot_sandbox, tmp_path):
    from pydantic import SecretStr

    from civicbot import Bot, PluginConfig, hookimpl
    from civicbot.logging import REDACTOR

    class Feed(PluginConfig):
        key: SecretStr

    class FeedSection(PluginConfig):
        sources: list[Feed]

    class Plugin:
        @hookimpl
        def civicbot_config_schema(self, register):
            register("feeds", FeedSection)

    Bot(civicbot_sandbox.url, access_token=civicbot_sandbox.access_token, plugins=[Plugin()],
        config={"plugins": {"feeds": {"sources": [{"key": "openagenda-KEY-42"}]}}},
        state=tmp_path / "s.sqlite3").stop()
    assert "openagenda-KEY-42" in REDACTOR.secrets
    assert civicbot_sandbox.access_token in REDACTOR.secrets
    assert REDACTOR.scrub("GET /events?x=1 failed with openagenda-KEY-42") == (
        f"GET /events?x=1 failed with {REDACTED}")


def test_a_library_bot_configures_redacting_logs_when_nobody_did(civicbot_sandbox, tmp_path,
                                                                  capsys):
    from civicbot import Bot

    structlog.reset_defaults()
    bot = Bot(civicbot_sandbox.url, access_token=civicbot_sandbox.access_token,
              state=tmp_path / "s.sqlite3")
    assert structlog.is_configured()
    bot.log.info("token check", detail=f"Bearer {civicbot_sandbox.access_token}")
    bot.stop()
    err = capsys.readouterr().err
    assert "token check" in err and civicbot_sandbox.access_token not in err
