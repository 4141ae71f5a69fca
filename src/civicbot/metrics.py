"""Prometheus metrics of a :class:`~civicbot.daemon.Daemon`, read live at every scrape.

There is no global registry: each daemon gets its own :class:`CollectorRegistry` holding a
:class:`DaemonCollector` (which reads the counters the bots already keep: publisher, hooks,
stream, dispatcher, scheduler) and a process collector (resident memory, CPU, open files).
Every civicbot series carries an ``account`` label. See ``docs/operations.md``.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from civicbot.__about__ import __version__
from civicbot.hookspecs import hookimpl

if TYPE_CHECKING:  # prometheus_client is imported only when the endpoint is served
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
    from prometheus_client.registry import Collector

    from civicbot.bot import Bot
    from civicbot.daemon import Daemon
    from civicbot.drafts import PostDraft

#: The plugin name of :class:`ReplyCounter` in every bot of a daemon.
METRICS_PLUGIN = "core.metrics"
STREAM_STATES = ("connecting", "connected", "polling", "reconnecting", "backoff", "failed",
                 "stopped")


class ReplyCounter:
    """A tiny built-in plugin: counts statuses sent in reply to *another* account's status.

    (Thread parts answer the bot's own statuses and are counted as posts, not replies.)
    """

    def __init__(self) -> None:
        self.replies: Counter[str] = Counter()

    @hookimpl
    def civicbot_post_sent(self, bot: Bot, draft: PostDraft, status: dict[str, Any]) -> None:
        parent_account = status.get("in_reply_to_account_id")
        if parent_account is None and status.get("in_reply_to_id") is None:
            return
        own = str(bot.account.get("id", ""))
        if parent_account is None or str(parent_account) != own:
            self.replies[bot.name] += 1


class DaemonCollector:
    """Reads the live values of every account of a daemon at scrape time (a
    ``prometheus_client`` collector: ``describe`` and ``collect``)."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def describe(self) -> list[Metric]:
        # no samples at registration time: the values are only read when scraped
        return []

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        daemon = self.daemon
        now = time.time()

        def gauge(name: str, doc: str, labels: tuple[str, ...] = ("account",)
                  ) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"civicbot_{name}", doc, labels=list(labels))

        def counter(name: str, doc: str, labels: tuple[str, ...] = ("account",)
                    ) -> CounterMetricFamily:
            return CounterMetricFamily(f"civicbot_{name}", doc, labels=list(labels))

        info = GaugeMetricFamily("civicbot_build_info", "civicbot version",
                                 labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        if daemon.started_at is not None and daemon.ready_after is not None:
            ready = GaugeMetricFamily("civicbot_daemon_ready_seconds",
                                      "Seconds from Daemon.start() until every stream was "
                                      "first connected or polling")
            ready.add_metric([], daemon.ready_after)
            yield ready

        up = gauge("account_up", "1 when the account's stream is connected or polling and "
                   "its scheduler runs")
        paused = gauge("paused", "1 while the account is paused by an admin command")
        sent = counter("posts_sent", "Statuses sent (replies and thread parts included)")
        replies = counter("replies_sent", "Statuses sent in reply to another account")
        publish_errors = counter("publish_errors", "Posts refused or given up by the publisher")
        plugin_errors = counter("plugin_errors", "Exceptions raised by plugin hooks",
                                ("account", "plugin"))
        job_runs = counter("job_runs", "Job runs (scheduled or manual)")
        job_failures = counter("job_failures", "Job runs that could not build their posts")
        next_run = gauge("job_next_run_timestamp_seconds",
                         "Next planned run of each job (unix time)", ("account", "job"))
        state = gauge("stream_state", "1 for the stream's current state", ("account", "state"))
        reconnects = counter("stream_reconnects", "Stream reconnections after the first connect")
        lag = gauge("stream_lag_seconds",
                    "Seconds since the last stream event or heartbeat (or successful poll)")
        depth = gauge("dispatch_queue_depth", "Notifications waiting for the plugins")
        handled = counter("notifications_handled", "Notifications handled by the plugins")
        failed = counter("notifications_failed",
                         "Notifications during which at least one plugin failed")
        skipped = counter("notifications_skipped_old",
                          "Mentions older than stream.max_mention_age, not answered")
        events = counter("events", "Events counted by the core and plugins (Bot.count)",
                         ("account", "event"))

        reply_counts = daemon.reply_counter.replies
        for bot in daemon.bots:
            acc = [bot.name]
            up.add_metric(acc, 0 if daemon.account_problems(bot) else 1)
            paused.add_metric(acc, 1 if _paused(bot) else 0)
            sent.add_metric(acc, bot.publisher.sent_count)
            replies.add_metric(acc, reply_counts.get(bot.name, 0))
            publish_errors.add_metric(acc, bot.publisher.error_count)
            for event, count in sorted(bot.events.items()):
                events.add_metric([bot.name, event], count)
            for plugin, count in sorted(bot.hooks.failures.items()):
                plugin_errors.add_metric([bot.name, plugin], count)
            scheduler = bot._scheduler
            if scheduler is not None:
                job_runs.add_metric(acc, scheduler.runs)
                job_failures.add_metric(acc, scheduler.failures)
                if scheduler.running:
                    for job_id, when in sorted(scheduler.next_run_times().items()):
                        if when is not None:
                            next_run.add_metric([bot.name, job_id], when.timestamp())
            stream = bot.stream
            current = stream.state if stream is not None else "stopped"
            if bot.name in daemon.failed:
                current = "failed"
            for name in STREAM_STATES:
                state.add_metric([bot.name, name], 1 if current == name else 0)
            if stream is None:
                continue
            reconnects.add_metric(acc, stream.reconnects)
            if stream.last_event_at is not None:
                lag.add_metric(acc, max(0.0, now - stream.last_event_at))
            else:
                lag.add_metric(acc, math.inf)
            dispatcher = stream.dispatcher
            depth.add_metric(acc, dispatcher.queue_depth)
            handled.add_metric(acc, dispatcher.handled)
            failed.add_metric(acc, dispatcher.failed)
            skipped.add_metric(acc, dispatcher.skipped_old)
        yield from (up, paused, sent, replies, publish_errors, plugin_errors, job_runs,
                    job_failures, next_run, state, reconnects, lag, depth, handled, failed,
                    skipped, events)


def _paused(bot: Bot) -> bool:
    try:
        return bot.paused
    except Exception:  # the store is closing
        return False


def make_registry(daemon: Daemon) -> CollectorRegistry:
    """A registry of its own for one daemon: civicbot metrics and the process's."""
    from prometheus_client import CollectorRegistry, ProcessCollector

    registry = CollectorRegistry(auto_describe=False)
    registry.register(cast("Collector", DaemonCollector(daemon)))
    if daemon.leases is not None:
        from civicbot.cluster_status import LeaseCollector

        registry.register(cast("Collector", LeaseCollector(daemon.leases)))
    ProcessCollector(registry=registry)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The Prometheus text exposition format (version 0.0.4)."""
    from prometheus_client import generate_latest

    return generate_latest(registry)
