"""The approval queue: drafts built ahead, edited, approved or rejected, published once."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from civicbot import Job, JobContext, PostDraft, cron, hookimpl
from civicbot.approvals import (
    APPROVED,
    EXPIRED,
    PUBLISHED,
    REJECTED,
    WAITING,
    ApprovalError,
    decide,
    draft_from_json,
    draft_to_json,
    prepare_drafts,
)

PARIS = ZoneInfo("Europe/Paris")
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=PARIS)


class Weekly:
    def __init__(self, approval: str = "required") -> None:
        self.approval = approval
        self.built = 0

    @hookimpl
    def civicbot_register_jobs(self, register, bot):
        def build(ctx: JobContext) -> list[PostDraft]:
            self.built += 1
            stamp = ctx.scheduled_time.strftime("%d/%m")
            return [PostDraft(text=f"Agenda de la semaine ({stamp})\nConcert samedi",
                              dedup_key=f"semaine:{ctx.scheduled_time.isoformat()}")]

        register(Job(id="semaine", schedule=cron("0 9 * * 1"), func=build,
                     approval=self.approval))


def _start(civicbot_make_bot, plugin, **config):
    bot = civicbot_make_bot(plugins=[plugin], config={"timezone": "Europe/Paris", **config})
    bot.start()
    return bot


def test_draft_json_round_trip():
    draft = PostDraft(text="a", dedup_key="k", spoiler_text="cw", language="fr", channels=("bluesky",),
                      reply_to_key="p", sensitive=True, pin=True, source="x",
                      scheduled_at=MONDAY_9)
    assert draft_from_json(draft_to_json(draft)) == draft


def test_drafts_are_built_lead_before_and_wait(civicbot_make_bot):
    plugin = Weekly()
    with time_machine.travel(MONDAY_9 - timedelta(hours=3), tick=False) as clock:
        bot = _start(civicbot_make_bot, plugin)
        assert bot.state.store.list_approvals(bot.name) == []  # 3h ahead: not yet (lead 2h)
        clock.move_to(MONDAY_9 - timedelta(hours=1, minutes=59))
        [new] = prepare_drafts(bot)
        assert prepare_drafts(bot) == []  # once per run
        record = bot.state.store.get_approval(new)
        assert record.state == WAITING and record.job_id == "semaine"
        assert record.run_time == MONDAY_9
        assert record.drafts[0]["text"].startswith("Agenda de la semaine (30/11)")


def test_approved_edited_draft_is_published_once(civicbot_sandbox, civicbot_make_bot):
    plugin = Weekly()
    with time_machine.travel(MONDAY_9 - timedelta(hours=1), tick=False) as clock:
        bot = _start(civicbot_make_bot, plugin)
        [record] = bot.state.store.list_approvals(bot.name)  # built at start-up
        drafts = [dict(record.drafts[0], text="Agenda de la semaine\nConcert dimanche")]
        assert bot.state.store.update_approval(record.id, expect=(WAITING,), drafts=drafts)
        decide(bot.state.store, record.id, approve=True, by="claire")
        clock.move_to(MONDAY_9 + timedelta(seconds=5))
        bot.scheduler.wakeup()
        [status] = civicbot_sandbox.wait_for_statuses(1)
        bot.scheduler.wait_idle()
        assert "Concert dimanche" in status["content"]
        assert bot.state.store.get_approval(record.id).state == PUBLISHED
        bot.scheduler.run(bot.jobs["semaine"], MONDAY_9)  # a second run of the same time
    assert len(civicbot_sandbox.statuses) == 1
    audit = bot.state.store.audit_entries()
    assert audit[0].who == "claire" and audit[0].action == "approve"


def test_rejected_draft_is_not_published(civicbot_sandbox, civicbot_make_bot):
    plugin = Weekly()
    with time_machine.travel(MONDAY_9 - timedelta(hours=1), tick=False) as clock:
        bot = _start(civicbot_make_bot, plugin)
        [record] = bot.state.store.list_approvals(bot.name)
        try:
            decide(bot.state.store, record.id, approve=False, by="claire", reason=" ")
        except ApprovalError as exc:
            assert "reason" in str(exc)
        else:
            raise AssertionError("a rejection without reason was accepted")
        decide(bot.state.store, record.id, approve=False, by="claire", reason="erreur de date")
        clock.move_to(MONDAY_9 + timedelta(seconds=5))
        bot.scheduler.wakeup()
        bot.scheduler.wait_idle()
        _wait_run(bot, "semaine")
    assert civicbot_sandbox.statuses == []
    assert bot.state.store.get_approval(record.id).state == REJECTED
    assert bot.state.store.get_approval(record.id).reason == "erreur de date"


def test_waiting_draft_expires_at_its_time(civicbot_sandbox, civicbot_make_bot):
    plugin = Weekly()
    with time_machine.travel(MONDAY_9 - timedelta(hours=1), tick=False) as clock:
        bot = _start(civicbot_make_bot, plugin)
        [record] = bot.state.store.list_approvals(bot.name)
        clock.move_to(MONDAY_9 + timedelta(seconds=5))
        bot.scheduler.wakeup()
        _wait_run(bot, "semaine")
        try:
            decide(bot.state.store, record.id, approve=True, by="claire")
        except ApprovalError as exc:
            assert "expired" in str(exc)
        else:
            raise AssertionError("an expired draft was approved")
    assert civicbot_sandbox.statuses == []
    assert bot.state.store.get_approval(record.id).state == EXPIRED
    assert bot.state.store.audit_entries()[0].action == "expire"


def test_job_without_approval_is_untouched(civicbot_sandbox, civicbot_make_bot):
    plugin = Weekly(approval="never")
    with time_machine.travel(MONDAY_9 - timedelta(minutes=1), tick=False) as clock:
        bot = _start(civicbot_make_bot, plugin)
        assert bot.state.store.list_approvals(bot.name) == []
        clock.move_to(MONDAY_9 + timedelta(seconds=5))
        bot.scheduler.wakeup()
        civicbot_sandbox.wait_for_statuses(1)


def test_lead_comes_from_the_desk_section(civicbot_make_bot):
    from argon2 import PasswordHasher

    desk = {"secret_key": "x" * 32, "approval": {"lead": "4h"},
            "users": [{"name": "claire", "role": "approver",
                       "password_hash": PasswordHasher().hash("pw")}]}
    with time_machine.travel(MONDAY_9 - timedelta(hours=3), tick=False):
        bot = _start(civicbot_make_bot, Weekly(), desk=desk)
        assert [r.state for r in bot.state.store.list_approvals(bot.name)] == [WAITING]


def test_decide_is_atomic(civicbot_make_bot):
    bot = civicbot_make_bot()
    store = bot.state.store
    new = store.add_approval(bot.name, "j", MONDAY_9, [{"text": "x", "dedup_key": "k"}])
    decide(store, new, approve=True, by="a")
    assert store.get_approval(new).state == APPROVED
    try:
        decide(store, new, approve=False, by="b", reason="non")
    except ApprovalError as exc:
        assert "approved" in str(exc)
    assert store.add_approval(bot.name, "j", MONDAY_9, []) is None


def _wait_run(bot, job_id: str) -> None:
    import time

    deadline = time.monotonic() + 10
    while bot.state.store.get_job_run(bot.name, job_id) is None:
        assert time.monotonic() < deadline, "the job did not run"
        time.sleep(0.02)
    bot.scheduler.wait_idle()
