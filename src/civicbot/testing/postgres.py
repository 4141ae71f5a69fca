"""A throw-away PostgreSQL server for tests and benchmarks.

``initdb`` in a temporary folder, ``pg_ctl start`` listening on 127.0.0.1 on a free port (no
unix socket), as a non-root user (PostgreSQL refuses to run as root: when civicbot's tests run
as root, the server runs as the ``postgres`` system user of Debian's package, or as
``civicbot-test``, created if needed), stopped and deleted by :meth:`stop`.

The binaries are looked for in ``$CIVICBOT_PG_BIN``, then ``/usr/lib/postgresql/*/bin`` (Debian's
``postgresql`` package), then ``$PATH``; :func:`find_pg_bin` returns ``None`` when there are none,
so that tests can skip with a clear reason::

    with ThrowawayPostgres() as pg:
        url = pg.create_database("t1")     # postgresql://civicbot:...@127.0.0.1:PORT/t1
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from types import TracebackType

#: The password of the ``civicbot`` role of a throw-away server (tests only).
TEST_PASSWORD = "civicbot-test-password"
TEST_USER = "civicbot"


def find_pg_bin() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None``."""
    candidates: list[str] = []
    if os.environ.get("CIVICBOT_PG_BIN"):
        candidates.append(os.environ["CIVICBOT_PG_BIN"])
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    which = shutil.which("initdb")
    if which:
        candidates.append(str(Path(which).parent))
    for folder in candidates:
        if all((Path(folder) / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as_user() -> str | None:
    """The system user to run the server as when we are root (created if missing)."""
    if os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "civicbot-test"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    "civicbot-test"], check=True, capture_output=True)
    return "civicbot-test"


class ThrowawayPostgres:
    """One PostgreSQL server in a temporary folder (see the module's docstring)."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        found = bin_dir or find_pg_bin()
        if found is None:
            raise RuntimeError("PostgreSQL server binaries not found (install Debian's "
                               "'postgresql' package or set CIVICBOT_PG_BIN)")
        self.bin_dir = found
        self.user = _run_as_user()
        self.port = _free_port()
        self.host = "127.0.0.1"
        self.folder = Path(tempfile.mkdtemp(prefix="civicbot-pg-"))
        self.data = self.folder / "data"
        self._started = False

    def _cmd(self, *args: str) -> list[str]:
        if self.user is None:
            return list(args)
        return ["runuser", "-u", self.user, "--", *args]

    def start(self) -> ThrowawayPostgres:
        pwfile = self.folder / "pwfile"
        pwfile.write_text(TEST_PASSWORD + "\n", encoding="utf-8")
        if self.user is not None:
            import pwd

            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        subprocess.run(self._cmd(str(self.bin_dir / "initdb"), "-D", str(self.data),
                                 "--username", TEST_USER, "--pwfile", str(pwfile),
                                 "--auth-host=scram-sha-256", "--auth-local=trust",
                                 "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"),
                       check=True, capture_output=True, cwd=self.folder)
        self._pg_start()
        return self

    def _pg_start(self) -> None:
        options = (f"-c listen_addresses={self.host} -c port={self.port} "
                   "-c unix_socket_directories='' -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB")
        subprocess.run(self._cmd(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-w",
                                 "-t", "60", "-l", str(self.folder / "server.log"), "-o",
                                 options, "start"),
                       check=True, capture_output=True, cwd=self.folder)
        self._started = True

    def halt(self) -> None:
        """Stop the server but keep its data (``resume`` starts it again on the same port):
        what daemons see when their database goes down."""
        # fast, not immediate: with this server's synchronous_commit=off an immediate stop
        # could lose the last commits, which a real server would not
        subprocess.run(self._cmd(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m",
                                 "fast", "-w", "stop"),
                       check=True, capture_output=True, cwd=self.folder)
        self._started = False

    def resume(self) -> None:
        self._pg_start()

    def url(self, database: str = "postgres", *, password: bool = True) -> str:
        secret = f":{TEST_PASSWORD}" if password else ""
        return f"postgresql://{TEST_USER}{secret}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; return its URL (with the password)."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self._started:
            subprocess.run(self._cmd(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m",
                                     "immediate", "-w", "stop"),
                           check=False, capture_output=True, cwd=self.folder)
            self._started = False
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
