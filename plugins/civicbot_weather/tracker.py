"""The alert state machine, one per (area, phenomenon): what to post for what the sources say.

Pure: :func:`step` takes the stored states and this poll's observations and returns the drafts
and the state changes; the job writes them (unless previewing). The rules:

* a warning at or above ``min_level`` that we do not track starts a thread;
* a change of level, of end time, or of a start time still to come is an update in the thread;
* an unchanged warning fetched again is silent (no flapping);
* only the source ends a warning: msgType Cancel, responseType AllClear (whatever level it
  still carries), a level below ``min_level`` (green included), or its own announced expiry
  time once passed — and expiry is only acted on after a successful fetch of the source that
  announced it. Silence, errors and missing entries never end anything;
* an observation older than what we already know is ignored (feeds lag and reorder).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from civicbot import PostDraft
from civicbot_weather.model import Alert, Cancellation, level_rank
from civicbot_weather.texts import Texts

STATE_PREFIX = "alert:"
ENDED_PREFIX = "ended:"
#: How long an ended warning is remembered, so that a stale copy in a feed cannot restart it.
TOMBSTONE_TTL = timedelta(days=7)
_KIND_ORDER = {"active": 0, "allclear": 1, "cancel": 2}
#: An end-of-warning post is still sent on a channel that was down until this long after the
#: warning's end (or after the time it was ended early), never later.
END_NOTICE_TTL = timedelta(hours=3)


def alert_to_json(alert: Alert) -> dict[str, Any]:
    data = dataclasses.asdict(alert)
    for name in ("onset", "expires", "sent"):
        value = data[name]
        data[name] = value.isoformat() if value is not None else None
    data["references"] = list(alert.references)
    return data


def alert_from_json(data: dict[str, Any]) -> Alert:
    values = dict(data)
    for name in ("onset", "expires", "sent"):
        values[name] = datetime.fromisoformat(values[name]) if values.get(name) else None
    values["references"] = tuple(values.get("references") or ())
    return Alert(**values)


def _combine(first: Alert, second: Alert) -> Alert:
    """One warning from two parts of the same message: the highest level (the first part on a
    tie), from the earliest onset to the latest expiry (open-ended if either is)."""
    top = second if level_rank(second.level) > level_rank(first.level) else first
    onsets = [a.onset for a in (first, second)]
    ends = [a.expires for a in (first, second)]
    return dataclasses.replace(
        top,
        onset=None if None in onsets else min(o for o in onsets if o is not None),
        expires=None if None in ends else max(e for e in ends if e is not None))


@dataclass
class Tracked:
    """A warning we posted and follow."""

    root: str
    alert: Alert
    source: str
    updates: int = 0
    refs: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"root": self.root, "alert": alert_to_json(self.alert), "source": self.source,
                "updates": self.updates, "refs": self.refs}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tracked:
        return cls(root=str(data["root"]), alert=alert_from_json(data["alert"]),
                   source=str(data.get("source", "")), updates=int(data.get("updates", 0)),
                   refs=list(data.get("refs") or []))


@dataclass
class Outcome:
    """What a poll leads to: drafts to publish, state keys to write and to delete, notes to log."""

    drafts: list[PostDraft] = field(default_factory=list)
    writes: dict[str, Any] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass
class Machine:
    texts: Texts
    min_level: str
    hashtags: list[str]

    # -- posts --------------------------------------------------------------------------------
    def _draft(self, text: str, key: str, spoiler: str, reply_to: str | None,
               expires_at: datetime | None) -> PostDraft:
        # expires_at: a channel that was down does not get the post after it (Mastodon does
        # not look at it): a warning that ended is not announced late
        return PostDraft(text=text, dedup_key=key, visibility="public", spoiler_text=spoiler,
                         language=self.texts.language, reply_to_key=reply_to,
                         priority="alert", expires_at=expires_at)

    def _end(self, out: Outcome, key: str, tracked: Tracked, reason: str,
             by: Alert | Cancellation | None, now: datetime, new_level: str = "") -> None:
        shown = tracked.alert
        if by is not None and by.web:
            shown = dataclasses.replace(shown, web=by.web)
        if isinstance(by, Alert) and reason == "expired":
            shown = dataclasses.replace(shown, expires=by.expires)
        text = self.texts.end_alert(shown, reason, tracked.alert.level, self.hashtags,
                                    new_level=new_level)
        ended_at = max(now, shown.expires) if shown.expires is not None else now
        out.drafts.append(self._draft(text, f"{tracked.root}:end",
                                      self.texts.spoiler(shown, end=True), tracked.root,
                                      ended_at + END_NOTICE_TTL))
        sent = by.sent if by is not None else tracked.alert.sent
        out.deletes.append(STATE_PREFIX + key)
        out.writes[ENDED_PREFIX + key] = {"sent": max(sent, tracked.alert.sent).isoformat(),
                                          "at": now.isoformat(), "root": tracked.root}
        out.notes.append(("warning ended", {"key": key, "reason": reason}))

    # -- the step -----------------------------------------------------------------------------
    def step(
        self,
        states: dict[str, Tracked],
        ended: dict[str, dict[str, Any]],
        observations: Iterable[tuple[str, Alert | Cancellation]],
        sources_ok: dict[str, bool],
        now: datetime,
    ) -> Outcome:
        out = Outcome()
        best: dict[str, tuple[str, Alert]] = {}
        cancellations: list[Cancellation] = []
        for source, obs in observations:
            if isinstance(obs, Cancellation):
                cancellations.append(obs)
                continue
            current = best.get(obs.key)
            rank = (obs.sent, _KIND_ORDER[obs.kind])
            if current is None or rank > (current[1].sent, _KIND_ORDER[current[1].kind]):
                best[obs.key] = (source, obs)
            elif rank == (current[1].sent, _KIND_ORDER[current[1].kind]) \
                    and obs.kind == "active":
                # several <info> blocks of one message for one area and phenomenon (e.g.
                # yellow this afternoon, orange tonight): one warning at the highest level
                best[obs.key] = (current[0], _combine(current[1], obs))
        done: set[str] = set()

        for cancel in cancellations:
            for key, known in states.items():
                if key not in done and set(cancel.references) & set(known.refs) \
                        and cancel.sent >= known.alert.sent:
                    self._end(out, key, known, cancel.kind, cancel, now)
                    done.add(key)

        for key, (source, obs) in sorted(best.items()):
            if key in done:
                continue
            tracked = states.get(key)
            if tracked is None:
                self._maybe_start(out, key, source, obs, ended.get(key), now)
            else:
                self._follow(out, key, source, obs, tracked, now)
            done.add(key)

        for key, tracked in sorted(states.items()):
            expires = tracked.alert.expires
            if key in done or expires is None or expires > now:
                continue
            # a source no longer configured cannot confirm anything: its own expiry time stands
            if sources_ok.get(tracked.source, True):
                self._end(out, key, tracked, "expired", None, now)
            else:
                out.notes.append(("expiry not confirmed: source unavailable; keeping the warning",
                                  {"key": key, "source": tracked.source}))

        for key, info in ended.items():
            at = datetime.fromisoformat(str(info.get("at")))
            if now - at > TOMBSTONE_TTL and ENDED_PREFIX + key not in out.writes:
                out.deletes.append(ENDED_PREFIX + key)
        return out

    def _maybe_start(self, out: Outcome, key: str, source: str, obs: Alert,
                     tomb: dict[str, Any] | None, now: datetime) -> None:
        if tomb is not None and obs.sent <= datetime.fromisoformat(str(tomb["sent"])):
            return  # what ended this warning is newer: a stale copy must not restart it
        if obs.kind != "active" or level_rank(obs.level) < level_rank(self.min_level):
            return
        if obs.expires is not None and obs.expires <= now:
            return
        stamp = obs.sent.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        root = f"weather:alert:{key}:{stamp}"
        out.drafts.append(self._draft(self.texts.new_alert(obs, self.hashtags), root,
                                      self.texts.spoiler(obs), None, obs.expires))
        tracked = Tracked(root=root, alert=obs, source=source,
                          refs=[obs.identifier] if obs.identifier else [])
        out.writes[STATE_PREFIX + key] = tracked.to_json()
        out.notes.append(("warning started", {"key": key, "level": obs.level}))

    def _follow(self, out: Outcome, key: str, source: str, obs: Alert, tracked: Tracked,
                now: datetime) -> None:
        old = tracked.alert
        if obs.sent < old.sent:
            return  # older than what we know
        if obs.kind in ("cancel", "allclear"):
            self._end(out, key, tracked, obs.kind, obs, now)
            return
        if level_rank(obs.level) < level_rank(self.min_level):
            reason = "allclear" if obs.level == "green" else "lowered"
            self._end(out, key, tracked, reason, obs, now, new_level=obs.level)
            return
        if obs.expires is not None and obs.expires <= now:
            self._end(out, key, tracked, "expired", obs, now)
            return
        level_changed = obs.level != old.level
        onset_changed = obs.onset != old.onset and any(
            t is not None and t > now for t in (old.onset, obs.onset))
        times_changed = obs.expires != old.expires or onset_changed
        refs = tracked.refs + ([obs.identifier] if obs.identifier
                               and obs.identifier not in tracked.refs else [])
        if level_changed or times_changed:
            updates = tracked.updates + 1
            out.drafts.append(self._draft(
                self.texts.update_alert(obs, old.level, times_changed, self.hashtags),
                f"{tracked.root}:update:{updates}", self.texts.spoiler(obs), tracked.root,
                obs.expires))
            out.writes[STATE_PREFIX + key] = Tracked(tracked.root, obs, source, updates,
                                                     refs).to_json()
            out.notes.append(("warning updated", {"key": key, "level": obs.level}))
        elif obs.sent != old.sent or refs != tracked.refs:
            # same warning re-issued: remember it silently (no post), keeping the start time
            kept = dataclasses.replace(obs, onset=old.onset)
            out.writes[STATE_PREFIX + key] = Tracked(tracked.root, kept, source,
                                                     tracked.updates, refs).to_json()
