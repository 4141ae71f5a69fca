"""A simulated month and a half against the sandbox, shared by the engagement and report tests.

Every day (fake time): a town plugin posts its agenda at 10:00 and its weather at 12:00 (on the
4th day the agenda is a two-part thread); every Monday the communication team posts by hand
from another client; at 15:00 residents favourite, boost and answer the bot's posts and some
follow it; at 23:00 the ``core.engagement`` job takes its snapshot. The test keeps its own
ledger of what residents did, to compare with what the snapshots recorded.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from mastodon import Mastodon

from civicbot import Bot, Job, JobContext, PostDraft, cron, hookimpl
from civicbot.builtin.engagement import JOB_ID
from civicbot.testing.sandbox import SandboxInstance

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 10, 1, tzinfo=PARIS)  # a Thursday
DAYS = 40
LONG = " ".join(["Le marché de Noël ouvre samedi place de la mairie."] * 14)


class Town:
    """Two jobs, as a first-party plugin would register them."""

    @hookimpl
    def civicbot_register_jobs(self, register: Callable[[Job], None]) -> None:
        def agenda(ctx: JobContext) -> list[PostDraft]:
            day = ctx.scheduled_time.date()
            text = LONG if day == (START + timedelta(days=3)).date() else f"Agenda du {day}"
            return [PostDraft(text=text, dedup_key=f"agenda:{day}")]

        def weather(ctx: JobContext) -> list[PostDraft]:
            day = ctx.scheduled_time.date()
            return [PostDraft(text=f"Météo du {day} : doux", dedup_key=f"meteo:{day}")]

        register(Job(id="agenda", schedule=cron("0 10 * * *"), func=agenda))
        register(Job(id="meteo", schedule=cron("0 12 * * *"), func=weather))


@dataclass
class Post:
    status_id: str
    created_at: datetime
    url: str
    source: str
    job: str
    favourites: int = 0
    boosts: int = 0
    replies: int = 0
    thread_part: bool = False


@dataclass
class Month:
    state: Path
    end: datetime
    posts: dict[str, Post] = field(default_factory=dict)
    #: what the last snapshot that still counted each post should hold: (favs, boosts, replies)
    expected_counts: dict[str, tuple[int, int, int, date]] = field(default_factory=dict)
    #: (day, followers, following, statuses) expected in each day's snapshot
    expected_days: list[tuple[date, int, int, int]] = field(default_factory=list)


def simulate(folder: Path, seed: int = 19) -> Month:
    rng = random.Random(seed)
    state = folder / "state.sqlite3"
    month = Month(state=state, end=START + timedelta(days=DAYS - 1, hours=23))
    followers = 0
    statuses = 0
    with time_machine.travel(START + timedelta(hours=9), tick=False) as clock, \
            SandboxInstance(account_username="ville") as sandbox:
        bot = Bot(sandbox.url, access_token=sandbox.access_token, plugins=[("town", Town())],
                  config={"timezone": "Europe/Paris"}, state=state)
        hand = Mastodon(access_token=sandbox.access_token, api_base_url=sandbox.url,
                        version_check_mode="none")
        try:
            for d in range(DAYS):
                day = START + timedelta(days=d)
                for hour, job_id in ((10, "agenda"), (12, "meteo")):
                    clock.move_to(day + timedelta(hours=hour))
                    results = bot.scheduler.run(bot.jobs[job_id], bot.now())
                    for result in results:
                        for i, status in enumerate(result.statuses):
                            statuses += 1
                            month.posts[str(status["id"])] = Post(
                                str(status["id"]), day + timedelta(hours=hour), status["url"],
                                "town", job_id, thread_part=i > 0)
                if day.weekday() == 0:
                    clock.move_to(day + timedelta(hours=11))
                    status = hand.status_post(f"Bonne semaine ! ({day.date()})")
                    statuses += 1
                    month.posts[str(status["id"])] = Post(
                        str(status["id"]), day + timedelta(hours=11), status["url"], "", "")
                clock.move_to(day + timedelta(hours=15))
                for post in list(month.posts.values()):
                    if post.thread_part:
                        continue
                    for _ in range(rng.randint(0, 3)):
                        sandbox.inject_notification("favourite", status_id=post.status_id,
                                                    acct=f"fan{rng.randint(1, 50)}@ex.org")
                        post.favourites += 1
                    if rng.random() < 0.3:
                        sandbox.inject_notification("reblog", status_id=post.status_id,
                                                    acct=f"fan{rng.randint(1, 50)}@ex.org")
                        post.boosts += 1
                    if rng.random() < 0.2:
                        sandbox.inject_mention("Merci !", acct=f"fan{rng.randint(1, 50)}@ex.org",
                                               in_reply_to_id=post.status_id)
                        post.replies += 1
                for _ in range(rng.randint(0, 4)):
                    followers += 1
                    sandbox.inject_notification("follow", acct=f"new{followers}@ex.org")
                clock.move_to(day + timedelta(hours=23))
                bot.scheduler.run(bot.jobs[JOB_ID], bot.now())
                now = bot.now()
                for post in month.posts.values():
                    if post.created_at >= now - timedelta(days=30):
                        month.expected_counts[post.status_id] = (
                            post.favourites, post.boosts, post.replies, now.date())
                month.expected_days.append((day.date(), followers, 0, statuses))
        finally:
            bot.stop()
    return month


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


__all__ = ["DAYS", "PARIS", "START", "Month", "Post", "simulate", "utc"]
