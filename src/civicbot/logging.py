"""structlog set-up: readable on a terminal, JSON lines otherwise, secrets always redacted."""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

_SECRET_KEYS = re.compile(
    r"^(?:.*_)?(?:token|secret|password|apikey|api_key|authorization)$|^key$", re.I)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.I)
_QUERY_SECRET = re.compile(r"((?:access_token|apikey|api_key|key|token)=)[^&\s\"']+", re.I)
# a header written out: "Authorization: xyz", "'Authorization': 'xyz'", "apikey=..." (any scheme)
_HEADER_SECRET = re.compile(
    r"((?:authorization|x-api-key|apikey|api_key)['\"]?\s*[:=]\s*['\"]?)"
    r"(?!(?:bearer\s+)?\[REDACTED\])(?:bearer\s+)?[^\s'\",}&]+", re.I)
REDACTED = "[REDACTED]"
#: Longest text value of a log line (a 10 MB error body is cut, with a note of its size).
MAX_VALUE = 4000
MAX_EXCEPTION = 20000


def clip(text: str, limit: int = MAX_VALUE) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit:,} more characters cut]"


class Redactor:
    """A structlog processor that removes secrets from every event.

    Known secret values (the access token, API keys from the config) are replaced wherever they
    appear, keys that look like secrets are blanked, and ``Bearer ...``/``?access_token=...``
    patterns are masked.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: set[str] = {s for s in secrets if s and len(s) >= 4}

    def add(self, *secrets: str | None) -> None:
        self.secrets.update(s for s in secrets if s and len(s) >= 4)

    def scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self.secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            value = _BEARER.sub(r"\1" + REDACTED, value)
            value = _HEADER_SECRET.sub(r"\1" + REDACTED, value)
            return _QUERY_SECRET.sub(r"\1" + REDACTED, value)
        if isinstance(value, dict):
            return {k: (REDACTED if isinstance(k, str) and _SECRET_KEYS.search(k) and v
                        else self.scrub(v)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.scrub(v) for v in value)
        return value

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]
                 ) -> MutableMapping[str, Any]:
        for key in list(event):
            if key != "event" and _SECRET_KEYS.search(key) and event[key]:
                event[key] = REDACTED
            else:
                value = self.scrub(event[key])
                if isinstance(value, str):  # cut after redacting: no half secret is left
                    value = clip(value, MAX_EXCEPTION if key == "exception" else MAX_VALUE)
                event[key] = value
        return event

    def safe(self, value: Any, limit: int = MAX_VALUE) -> str:
        """``value`` as text fit to print: secrets redacted, then cut to ``limit``."""
        return clip(str(self.scrub(str(value))), limit)


#: The process-wide redactor; the CLI and :class:`civicbot.Bot` add known secrets to it.
REDACTOR = Redactor()


def configure_logging(fmt: str = "auto", level: str = "info", stream: TextIO | None = None
                      ) -> None:
    """Configure structlog (and the stdlib loggers of libraries) once for the process."""
    target = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if target.isatty() else "json"
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info if fmt == "json" else _noop,
        REDACTOR,
    ]
    renderer: Any = (structlog.processors.JSONRenderer(ensure_ascii=False) if fmt == "json"
                     else structlog.dev.ConsoleRenderer(colors=target.isatty()))
    numeric = getattr(logging, level.upper(), logging.INFO)
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=lambda *args: _StderrLogger(stream),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=target,
                        format="%(levelname)s %(name)s: %(message)s", force=True)
    for noisy in ("apscheduler", "urllib3", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def ensure_logging(fmt: str = "auto", level: str = "info") -> None:
    """Configure logging (with redaction) unless the application already did: a library user
    who never set up logging still never sees a token in a log line."""
    if not structlog.is_configured():
        configure_logging(fmt, level)


class _StderrLogger:
    """Writes each rendered line to ``stream``, or to ``sys.stderr`` as it is *at write time*
    (bound loggers live long; stderr may be replaced meanwhile, by tests or daemons)."""

    _lock = threading.Lock()

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def msg(self, message: str) -> None:
        stream = self._stream or sys.stderr
        with self._lock:
            try:
                stream.write(message + "\n")
                stream.flush()
            except ValueError:  # a closed stream: logging must never crash the bot
                pass

    log = debug = info = warn = warning = error = err = critical = exception = fatal = msg


def _noop(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return event
