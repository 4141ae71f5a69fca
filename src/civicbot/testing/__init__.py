"""Testing helpers for civicbot and its plugins: a fake Mastodon instance and pytest fixtures.

:class:`SandboxInstance` speaks Mastodon's real REST and streaming wire format on 127.0.0.1,
so the real Mastodon.py client runs unchanged against it. The ``pytest11`` plugin
(``civicbot.testing.pytest_plugin``, enabled automatically once civicbot is installed) gives
the fixtures ``civicbot_sandbox`` and ``civicbot_make_bot``.
"""

from civicbot.testing.sandbox import SandboxInstance
from civicbot.testing.sandbox_profiles import PROFILES, SandboxProfile

__all__ = ["PROFILES", "SERVER_PROFILES", "SandboxInstance", "SandboxProfile", "every_server"]

SERVER_PROFILES: tuple[str, ...] = tuple(PROFILES)


def __getattr__(name: str) -> object:
    """``every_server`` (a pytest mark) without importing pytest for non-test users."""
    if name == "every_server":
        from civicbot.testing.pytest_plugin import every_server

        return every_server
    raise AttributeError(name)
