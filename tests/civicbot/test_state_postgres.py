"""What only the PostgreSQL store does: versioned migrations under a lock, fencing by lease
epoch, the ``state:`` URL in the config (password from the URL or a file), ``civicbot migrate``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from civicbot.cli import main
from civicbot.config import load_config
from civicbot.errors import LeaseLostError
from civicbot.state import open_state_store

psycopg = pytest.importorskip("psycopg")


def _versions(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM civicbot_schema ORDER BY 1")]


def test_daemons_starting_together_migrate_once(civicbot_postgres_url: str):
    from civicbot.state_postgres import SCHEMA_VERSION, PostgresStateStore

    stores: list[PostgresStateStore] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def start() -> None:
        try:
            barrier.wait()
            stores.append(PostgresStateStore(civicbot_postgres_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # exactly one store applied the migrations; the others found the schema up to date
    assert sorted(len(s.migrated) for s in stores) == [0] * 5 + [SCHEMA_VERSION]
    assert _versions(civicbot_postgres_url) == list(range(1, SCHEMA_VERSION + 1))
    for store in stores:
        store.close()


def test_ids_are_text_and_posts_keep_insertion_order(civicbot_postgres_url: str):
    store = open_state_store(civicbot_postgres_url)
    keys = ["reply:01HZX3K9Q8ZJ7", "reply:AZZbcd1234567890abcdef1234567890abcdefgh", "reply:9"]
    store.add_pending("ville", [(k, {"text": k}) for k in keys])
    assert [p.dedup_key for p in store.pending_posts("ville")] == keys
    store.mark_notification("ville", "AZZbcd1234567890abcdef1234567890abcdefgh",
                            cursor="AZZbcd1234567890abcdef1234567890abcdefgh")
    assert store.get_cursor("ville", "notifications") == "AZZbcd1234567890abcdef1234567890abcdefgh"
    store.close()


def _take_lease(url: str, account: str, owner: str, epoch: int, ttl: str = "30 seconds") -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO leases (account, owner, host, pid, epoch, acquired_at, renewed_at,"
            " expires_at) VALUES (%s, %s, 'h', 1, %s, now(), now(), now() + %s::interval)"
            " ON CONFLICT (account) DO UPDATE SET owner=excluded.owner, epoch=excluded.epoch,"
            " expires_at=excluded.expires_at", (account, owner, epoch, ttl))


def test_a_fenced_store_writes_only_while_it_holds_the_lease(civicbot_postgres_url: str):
    from civicbot.state_postgres import PostgresStateStore

    store = PostgresStateStore(civicbot_postgres_url)
    _take_lease(civicbot_postgres_url, "ville", "daemon-a", 1)
    store.fence("ville", "daemon-a", 1)
    store.kv_set("ville", "weather", "k", 1)
    store.check_lease("ville")
    # another daemon takes the account over (new epoch): every write and post is refused
    _take_lease(civicbot_postgres_url, "ville", "daemon-b", 2)
    with pytest.raises(LeaseLostError, match="ville"):
        store.kv_set("ville", "weather", "k", 2)
    with pytest.raises(LeaseLostError):
        store.add_pending("ville", [("late", {"text": "zombie"})])
    with pytest.raises(LeaseLostError):
        store.mark_notification("ville", "5", cursor="5")
    with pytest.raises(LeaseLostError):
        store.check_lease("ville")
    assert store.kv_get("ville", "weather", "k") == 1
    assert store.get_post("ville", "late") is None
    assert store.get_cursor("ville", "notifications") is None
    # an expired lease of our own is no better
    _take_lease(civicbot_postgres_url, "musee", "daemon-a", 3, ttl="-1 second")
    store.fence("musee", "daemon-a", 3)
    with pytest.raises(LeaseLostError):
        store.set_cursor("musee", "notifications", "1")
    # accounts not fenced (short CLI commands such as pause) write as before
    store.kv_set("other", "core", "paused", True)
    store.close()


def test_a_store_that_cannot_reach_the_database_posts_nothing(civicbot_postgres_url: str):
    from civicbot.state_postgres import PostgresStateStore

    store = PostgresStateStore(civicbot_postgres_url)
    _take_lease(civicbot_postgres_url, "ville", "daemon-a", 1)
    store.fence("ville", "daemon-a", 1)
    store.close()
    dead = PostgresStateStore("postgresql://civicbot@127.0.0.1:1/none", migrate=False,
                              timeout=0.5)
    dead.fence("ville", "daemon-a", 1)
    with pytest.raises(LeaseLostError, match="database"):
        dead.check_lease("ville")
    dead.close()


def _config(tmp_path: Path, state: str, extra: str = "") -> Path:
    path = tmp_path / "civicbot.yaml"
    path.write_text(f"mastodon:\n  api_base_url: sandbox\nstate: {state}\n{extra}",
                    encoding="utf-8")
    return path


def test_state_url_with_env_and_password_file(civicbot_postgres: object, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]):
    from civicbot.testing.postgres import TEST_PASSWORD

    url_no_password = civicbot_postgres.url("postgres", password=False)  # type: ignore[attr-defined]
    database = civicbot_postgres.create_database().rsplit("/", 1)[1]  # type: ignore[attr-defined]
    monkeypatch.setenv("CIVICBOT_DB", database)
    (tmp_path / "pg-password").write_text(TEST_PASSWORD + "\n", encoding="utf-8")
    state = url_no_password.rsplit("/", 1)[0] + "/${CIVICBOT_DB}"
    path = _config(tmp_path, state, "state_password_file: pg-password\ncluster:\n"
                   "  lease_ttl: 5s\n")
    config = load_config(path)
    assert config.core.state == url_no_password.rsplit("/", 1)[0] + "/" + database
    assert config.core.cluster.lease_ttl.total_seconds() == 5
    assert main(["migrate", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "applied schema versions 1, 2, 3, 4" in out and TEST_PASSWORD not in out
    assert main(["migrate", "--config", str(path)]) == 0
    assert "already up to date" in capsys.readouterr().out
    assert main(["pause", "--config", str(path)]) == 0
    store = open_state_store(civicbot_postgres.url(database))  # type: ignore[attr-defined]
    assert store.kv_get("default", "core", "paused") is True
    store.close()


def test_a_password_in_the_url_is_never_printed(civicbot_postgres_url: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]):
    from civicbot.testing.postgres import TEST_PASSWORD

    path = _config(tmp_path, civicbot_postgres_url)
    assert main(["migrate", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert TEST_PASSWORD not in out and ":***@" in out


def test_a_bad_state_url_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = _config(tmp_path, "postgresql:///nohost")
    assert main(["check-config", str(path)]) == 2
    assert "civicbot.yaml:3: state: " in capsys.readouterr().err


def test_an_unreachable_database_is_a_clear_error(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]):
    path = _config(tmp_path, "postgresql://civicbot:s3cret@127.0.0.1:1/civicbot")
    assert main(["migrate", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "cannot use the PostgreSQL state postgresql://civicbot:***@127.0.0.1:1/civicbot" in err
    assert "s3cret" not in err
