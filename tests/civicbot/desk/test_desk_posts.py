"""Desk posts in the state store (no browser): saved, edited, deleted, approved, sent once,
surviving a restart; uploads checked by decoding them; the web stack loaded only with desk:."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from argon2 import PasswordHasher

from civicbot.approvals import APPROVED, DELETED, PUBLISHED, WAITING, ApprovalError
from civicbot.desk import posts
from civicbot.desk.config import DeskConfig
from civicbot.drafts import Media
from civicbot.errors import ConfigError, MissingAltText

PARIS = ZoneInfo("Europe/Paris")
NOON = datetime(2026, 12, 9, 12, 0, tzinfo=PARIS)
HASH = PasswordHasher(time_cost=1, memory_cost=8192).hash("pw")


def _desk(**approval):
    return {"secret_key": "k" * 32, "approval": approval,
            "users": [{"name": "mehdi", "role": "editor", "password_hash": HASH}]}


def _wait(predicate, what: str) -> None:
    import time

    deadline = time.monotonic() + 10
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_a_desk_post_goes_out_once_at_its_time_and_survives_a_restart(
        civicbot_sandbox, civicbot_make_bot, tmp_path: Path) -> None:
    state = tmp_path / "s.sqlite3"
    with time_machine.travel(NOON, tick=False) as clock:
        bot = civicbot_make_bot(config={"timezone": "Europe/Paris", "desk": _desk()},
                                state=state)
        bot.start()
        post = posts.DeskPost(text="Premier\n---\nSecond", when=NOON + timedelta(minutes=5))
        record = posts.save(bot, post, author="mehdi", approval_required=False)
        assert record.state == APPROVED and record.author == "mehdi"
        assert [d["dedup_key"] for d in record.drafts] == [record.job_id, f"{record.job_id}/2"]
        bot.stop()
        bot = civicbot_make_bot(config={"timezone": "Europe/Paris", "desk": _desk()},
                                state=state)  # restart: the post is still scheduled
        bot.start()
        assert record.job_id in bot.jobs
        clock.move_to(NOON + timedelta(minutes=5, seconds=1))
        bot.scheduler.wakeup()
        first, second = civicbot_sandbox.wait_for_statuses(2)
        assert "Premier" in first["content"] and "Second" in second["content"]
        assert second["in_reply_to_id"] == first["id"]
        _wait(lambda: bot.state.store.get_approval(record.id).state == PUBLISHED, "published")
        bot.scheduler.run(bot.jobs[record.job_id], NOON + timedelta(minutes=5))
    assert len(civicbot_sandbox.statuses) == 2


def test_edit_and_delete_until_sent_and_approval_when_required(civicbot_sandbox,
                                                              civicbot_make_bot) -> None:
    with time_machine.travel(NOON, tick=False) as clock:
        bot = civicbot_make_bot(config={"timezone": "Europe/Paris",
                                        "desk": _desk(desk_posts="required")})
        bot.start()
        one = posts.save(bot, posts.DeskPost(text="Brouillon", when=NOON + timedelta(hours=1)),
                         author="mehdi", approval_required=True)
        assert one.state == WAITING
        edited = posts.save(bot, posts.DeskPost(text="Corrigé", when=NOON + timedelta(hours=2)),
                            author="mehdi", approval_required=True, record=one)
        assert edited.drafts[0]["text"] == "Corrigé"
        assert bot.jobs[one.job_id].schedule.at == NOON + timedelta(hours=2)
        two = posts.save(bot, posts.DeskPost(text="À jeter", when=NOON + timedelta(hours=1)),
                         author="mehdi", approval_required=False)
        posts.delete(bot, two, by="mehdi")
        assert bot.state.store.get_approval(two.id).state == DELETED
        assert two.job_id not in bot.jobs
        with pytest.raises(ApprovalError):
            posts.delete(bot, two, by="mehdi")
        clock.move_to(NOON + timedelta(hours=2, seconds=1))  # the first one was never approved
        bot.scheduler.wakeup()
        _wait(lambda: bot.state.store.get_approval(one.id).state == "expired", "expired")
    assert civicbot_sandbox.statuses == []


def test_a_desk_post_needs_alt_text(civicbot_make_bot, tmp_path: Path) -> None:
    bot = civicbot_make_bot(config={"desk": _desk()})
    post = posts.DeskPost(text="Photo", media=[Media(tmp_path / "a.png", " ")])
    with pytest.raises(MissingAltText):
        posts.save(bot, post, author="mehdi", approval_required=False)
    assert bot.state.store.list_approvals() == []


def _jpeg_with_gps() -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (47.0, 35.0, 10.0), 3: "E", 4: (1.0, 20.0, 5.0)}
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_uploads_are_decoded_and_lose_their_location(tmp_path: Path) -> None:
    from PIL import Image

    data = _jpeg_with_gps()
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif().get_ifd(0x8825)  # the fixture does carry GPS
    path = posts.store_image(data, tmp_path, max_bytes=1_000_000)
    with Image.open(path) as saved:
        assert saved.format == "JPEG" and saved.size == (40, 30)
        assert not saved.getexif() and "exif" not in saved.info
    png = io.BytesIO()
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Location", "47.58N 1.33E")
    Image.new("P", (8, 8)).save(png, format="PNG", pnginfo=info)
    with Image.open(posts.store_image(png.getvalue(), tmp_path, max_bytes=10_000)) as saved:
        assert "Location" not in saved.info
    with pytest.raises(posts.UploadRefused, match="not an image"):
        posts.store_image(b"<?php echo 'hi'; ?>" * 10, tmp_path, max_bytes=10_000)
    with pytest.raises(posts.UploadRefused, match="larger"):
        posts.store_image(data, tmp_path, max_bytes=100)


def test_desk_config_errors_name_the_key(tmp_path: Path) -> None:
    from civicbot.config import load_config_text

    text = ("mastodon: {api_base_url: sandbox}\n"
            "desk:\n  secret_key: short\n  users:\n"
            "    - {name: claire, role: chef, password_hash: nothash}\n")
    with pytest.raises(ConfigError) as exc:
        load_config_text(text, filename="c.yaml")
    problems = "\n".join(exc.value.problems)
    assert "c.yaml:3: desk.secret_key" in problems
    assert "c.yaml:5: desk.users[0].role" in problems
    assert "c.yaml:5: desk.users[0].password_hash" in problems
    (tmp_path / "h").write_text(HASH + "\n")
    config = DeskConfig.model_validate(
        {"secret_key": "s" * 20, "users": [{"name": "a", "password_hash_file": str(tmp_path / "h")}]},
        context={"base_dir": tmp_path})
    assert config.users[0].password_hash.get_secret_value() == HASH
    assert config.approval.lead == timedelta(hours=2)


def test_the_web_stack_is_imported_only_with_a_desk(tmp_path: Path) -> None:
    code = ("import sys; from civicbot.daemon import Daemon; "
            "d = Daemon.from_config(sys.argv[1], http='127.0.0.1:0'); d.start(); "
            "print(sorted(m for m in ('starlette', 'uvicorn', 'PIL', 'argon2') "
            "if m in sys.modules)); d.stop()")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"mastodon: {{api_base_url: sandbox}}\nstate: {tmp_path / 's.db'}\n"
                   "log: {level: error}\n", encoding="utf-8")
    plain = subprocess.run([sys.executable, "-c", code, str(cfg)], capture_output=True,
                           text=True, timeout=60)
    assert plain.stdout.strip().splitlines()[-1] == "[]", plain.stderr[-2000:]
    cfg.write_text(cfg.read_text() + "desk:\n  secret_key: " + "s" * 20 + "\n  users:\n"
                   f"    - {{name: a, password_hash: '{HASH}'}}\n", encoding="utf-8")
    desk = subprocess.run([sys.executable, "-c", code, str(cfg)], capture_output=True,
                          text=True, timeout=60)
    assert "'starlette'" in desk.stdout and "'uvicorn'" in desk.stdout, desk.stderr[-2000:]
