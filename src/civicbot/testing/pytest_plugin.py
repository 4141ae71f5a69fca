"""pytest fixtures for plugin authors (registered through the ``pytest11`` entry point).

``civicbot_sandbox``
    A running :class:`~civicbot.testing.SandboxInstance`, stopped after the test.

``civicbot_make_bot``
    A factory: ``civicbot_make_bot(plugins=[my_plugin], config={...})`` returns a
    :class:`civicbot.Bot` wired to the sandbox (entry points are not loaded, so only the
    plugins you name take part), with a state store in the test's temporary folder. Bots are
    stopped after the test. Call ``bot.start()`` to connect the stream and start the jobs, or
    use ``bot.scheduler.preview(job_id, at)`` / ``bot.publish(...)`` directly.

``civicbot_sandbox`` behaves like Mastodon by default; parametrise it (indirectly) to run a
test against every server a town may be on — Mastodon, GoToSocial and snac, see
:mod:`civicbot.testing.sandbox_profiles`::

    from civicbot.testing import every_server

    @every_server
    def test_greeter_everywhere(civicbot_sandbox, civicbot_make_bot): ...

Example::

    def test_greeter(civicbot_sandbox, civicbot_make_bot):
        bot = civicbot_make_bot(plugins=[Greeter()])
        bot.start()
        civicbot_sandbox.inject_mention("bonjour")
        [status] = civicbot_sandbox.wait_for_statuses(1)
        assert "Bonjour" in status["content"]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from civicbot.bot import Bot
from civicbot.testing.sandbox import SandboxInstance
from civicbot.testing.sandbox_profiles import PROFILES

#: The server profiles of the sandbox: ``mastodon``, ``gotosocial``, ``snac``.
SERVER_PROFILES: tuple[str, ...] = tuple(PROFILES)
#: Run a test once per server profile (``civicbot_sandbox`` parametrised indirectly).
every_server = pytest.mark.parametrize("civicbot_sandbox", SERVER_PROFILES, indirect=True)

#: Stream settings that make tests fast: quick backoff, a short watchdog.
FAST_STREAM: dict[str, Any] = {
    "watchdog": "2s",
    "backoff_initial": "0.02s",
    "backoff_max": "0.2s",
    "poll_interval": "0.1s",
    "shutdown_grace": "2s",
}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@pytest.fixture
def civicbot_sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxInstance]:
    """A fake Mastodon instance on 127.0.0.1 (heartbeat every 0.2 s); parametrised indirectly
    with a profile name (``mastodon``, ``gotosocial``, ``snac``) it behaves like that server."""
    profile = str(getattr(request, "param", "mastodon"))
    sandbox = SandboxInstance(heartbeat_interval=0.2, profile=profile).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def civicbot_make_bot(
    civicbot_sandbox: SandboxInstance, tmp_path: Path
) -> Iterator[Callable[..., Bot]]:
    """Factory of bots wired to ``civicbot_sandbox``. Only the plugins named in ``plugins`` are
    loaded, unless ``load_entry_points=True`` (the installed plugins too, e.g. ``auto_reply``
    to test a command end to end)."""
    bots: list[Bot] = []

    def make(
        plugins: list[Any] | tuple[Any, ...] = (),
        config: dict[str, Any] | None = None,
        *,
        state: str | Path | None = None,
        sandbox: SandboxInstance | None = None,
        dry_run: bool = False,
        load_entry_points: bool = False,
    ) -> Bot:
        target = sandbox or civicbot_sandbox
        merged = _merge({"stream": FAST_STREAM}, config or {})
        bot = Bot(target.url, access_token=target.access_token, plugins=plugins, config=merged,
                  state=state or tmp_path / "state.sqlite3", dry_run=dry_run,
                  load_entry_points=load_entry_points)
        bot.publisher.backoff_initial = 0.01
        bot.publisher.backoff_max = 0.05
        bots.append(bot)
        return bot

    try:
        yield make
    finally:
        for bot in bots:
            bot.stop()


@pytest.fixture(scope="session")
def civicbot_postgres() -> Iterator[Any]:
    """A throw-away PostgreSQL server for the whole session
    (:class:`~civicbot.testing.postgres.ThrowawayPostgres`); the test is skipped when the
    server binaries (Debian's ``postgresql`` package) or psycopg are missing."""
    from civicbot.testing.postgres import ThrowawayPostgres, find_pg_bin

    if find_pg_bin() is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql, or set "
                    "CIVICBOT_PG_BIN)")
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install psycopg)")
    server = ThrowawayPostgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def civicbot_postgres_url(civicbot_postgres: Any) -> str:
    """The URL of a new, empty database on :func:`civicbot_postgres` (one per test)."""
    url: str = civicbot_postgres.create_database()
    return url
