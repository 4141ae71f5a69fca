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
