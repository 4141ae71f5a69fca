"""Fencing on the posting path: a bot whose daemon lost the account's lease posts nothing, even
a draft it had already recorded as pending (the new owner resends it with the same key)."""

from __future__ import annotations

import pytest

from civicbot import Bot, PostDraft
from civicbot.testing import SandboxInstance

psycopg = pytest.importorskip("psycopg")


def _lease(url: str, owner: str, epoch: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO leases (account, owner, epoch, expires_at) VALUES"
                     " ('default', %s, %s, now() + interval '1 minute') ON CONFLICT (account)"
                     " DO UPDATE SET owner=excluded.owner, epoch=excluded.epoch,"
                     " expires_at=excluded.expires_at", (owner, epoch))


def _posts(sandbox: SandboxInstance) -> list[str]:
    return [r.headers.get("Idempotency-Key", "") for r in list(sandbox.requests)
            if r.method == "POST" and r.path == "/api/v1/statuses"]


def test_a_pending_post_is_not_resent_by_a_daemon_without_the_lease(
        civicbot_postgres_url: str, civicbot_sandbox: SandboxInstance):
    from civicbot.errors import LeaseLostError
    from civicbot.state_postgres import PostgresStateStore

    store = PostgresStateStore(civicbot_postgres_url)
    _lease(civicbot_postgres_url, "daemon-a", 1)
    store.fence("default", "daemon-a", 1)
    bot = Bot(civicbot_sandbox.url, civicbot_sandbox.access_token, state=store)
    store.add_pending("default", [("alerte:1", {"text": "Vigilance orange orages"})])
    _lease(civicbot_postgres_url, "daemon-b", 2)  # daemon b took the account over
    bot.publisher.resend_pending()
    with pytest.raises(LeaseLostError):
        bot.publish(PostDraft(text="Marché de Noël", dedup_key="marche:1"))
    assert _posts(civicbot_sandbox) == []
    assert [p.dedup_key for p in store.pending_posts("default")] == ["alerte:1"]
    # the new owner (its own fence) sends it, with the same Idempotency-Key
    store.fence("default", "daemon-b", 2)
    bot.publisher.resend_pending()
    assert _posts(civicbot_sandbox) == ["alerte:1"]
    assert store.get_post("default", "alerte:1").state == "sent"  # type: ignore[union-attr]
    bot.stop()
    store.close()


def test_a_retry_after_the_lease_moved_posts_nothing(civicbot_postgres_url: str,
                                                      civicbot_sandbox: SandboxInstance):
    """The lease is checked before every attempt, not once per post: a post whose first try
    failed (502) is not sent again once another daemon took the account during the backoff."""
    from civicbot.state_postgres import PostgresStateStore

    store = PostgresStateStore(civicbot_postgres_url)
    _lease(civicbot_postgres_url, "daemon-a", 1)
    store.fence("default", "daemon-a", 1)
    bot = Bot(civicbot_sandbox.url, civicbot_sandbox.access_token, state=store)
    civicbot_sandbox.fail_next(1, 502, path_prefix="/api/v1/statuses")

    def backoff_during_which_b_takes_over(delay: float) -> bool:
        _lease(civicbot_postgres_url, "daemon-b", 2)
        return False

    bot.publisher._sleep = backoff_during_which_b_takes_over
    result = bot.publish(PostDraft(text="Coupure d'eau rue Haute", dedup_key="eau:1"))[0]
    assert result.skipped is not None and "no longer holds the lease" in result.skipped
    assert _posts(civicbot_sandbox) == ["eau:1"]  # the first try only (answered 502)
    assert civicbot_sandbox.statuses == []
    assert [p.dedup_key for p in store.pending_posts("default")] == ["eau:1"]
    bot.stop()
    store.close()
