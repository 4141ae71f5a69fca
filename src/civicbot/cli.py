"""The ``civicbot`` command. The only place that handles signals and exit codes.

Exit codes: 0 success, 1 runtime failure (a job could not build its posts, the token was
refused...), 2 invalid configuration or usage.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

import structlog

from civicbot import cli_report
from civicbot.__about__ import __version__
from civicbot.errors import AuthenticationError, CivicbotError, ConfigError, JobError, PluginError

EXIT_OK, EXIT_FAILURE, EXIT_CONFIG = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="civicbot", description="Mastodon bots for public institutions.")
    parser.add_argument("--version", action="version", version=f"civicbot {__version__}")
    parser.add_argument("--log-format", choices=("auto", "console", "json"), default=None,
                        help="console on a terminal, JSON lines otherwise (default: auto)")
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"),
                        default=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="run the bot (stop with Ctrl-C or SIGTERM)")
    run.add_argument("--config", required=True, type=Path)
    run.add_argument("--dry-run", action="store_true",
                     help="log posts instead of sending them; the state store is not touched")
    run.add_argument("--http", metavar="HOST:PORT",
                     help="serve /healthz and /metrics (default: the config's http, if any)")

    check = sub.add_parser("check-config", help="validate a config file (exit 2 if invalid)")
    check.add_argument("file", type=Path)

    plugins = sub.add_parser("plugins", help="list loaded plugins and their hooks")
    plugins.add_argument("--config", type=Path, default=None)

    jobs = sub.add_parser("jobs", help="list scheduled jobs and their next run times")
    jobs.add_argument("--config", required=True, type=Path)
    jobs.add_argument("--account", default=None)

    run_job = sub.add_parser("run-job", help="run one job now and publish its posts")
    run_job.add_argument("job_id")
    run_job.add_argument("--config", required=True, type=Path)
    run_job.add_argument("--dry-run", action="store_true")
    run_job.add_argument("--account", default=None)

    preview = sub.add_parser("preview", help="print the posts a job would publish, without posting")
    preview.add_argument("job_id")
    preview.add_argument("--config", required=True, type=Path)
    preview.add_argument("--at", default=None, help="ISO 8601 time (default: now)")
    preview.add_argument("--json", action="store_true", help="one JSON object per post")
    preview.add_argument("--account", default=None)

    status = sub.add_parser("status", help="stream health, cursor and last posts (from the state)")
    status.add_argument("--config", required=True, type=Path)
    status.add_argument("--json", action="store_true")

    for name, text in (("pause", "stop every automatic post and reply (takes effect at once, "
                                 "even on a running daemon)"),
                       ("resume", "resume automatic posts and replies after a pause")):
        pause = sub.add_parser(name, help=text)
        pause.add_argument("--config", required=True, type=Path)
        pause.add_argument("--account", default=None, help="one account (default: all)")

    from civicbot import cli_migrate

    cli_migrate.add_parser(sub)

    from civicbot.cli_ask import add_parser as add_ask

    add_ask(sub)

    demo = sub.add_parser("demo", help="run every plugin against the embedded sandbox")
    demo.add_argument("--duration", type=float, default=30.0, help="seconds (default 30)")
    demo.add_argument("--verbose", action="store_true",
                      help="show the bot's log lines too (hidden by default)")
    demo.add_argument("--server", choices=["mastodon", "gotosocial", "snac"], default="mastodon",
                      help="which server the sandbox behaves like (default mastodon)")
    from civicbot import cli_approvals

    _COMMANDS.update(cli_approvals.register(sub))

    cli_report.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from civicbot.logging import configure_logging

    configure_logging(args.log_format or "auto", args.log_level or "info")
    handler = _COMMANDS[args.command]
    from civicbot.logging import REDACTOR

    def say(text: object) -> None:
        # what the CLI prints itself never goes through the log's redactor: redact and cut
        # here (a token in an exception's request, a 10 MB error body)
        print(REDACTOR.safe(text, 2000), file=sys.stderr)

    try:
        return handler(args)
    except ConfigError as exc:
        for line in exc.problems:
            say(line)
        return EXIT_CONFIG
    except PluginError as exc:
        say(f"error: {exc}")
        return EXIT_CONFIG
    except AuthenticationError as exc:
        say(f"error: {exc}")
        return EXIT_FAILURE
    except CivicbotError as exc:
        say(f"error: {exc}")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as exc:  # a bug: the traceback goes to the (redacting) log, not raw
        import structlog

        structlog.get_logger("civicbot.cli").error("unexpected error", exc_info=exc)
        say(f"error: unexpected {type(exc).__name__}: {exc}")
        return EXIT_FAILURE


# -- commands -----------------------------------------------------------------------------------
def _check_config(args: argparse.Namespace) -> int:
    from civicbot.config import load_config
    from civicbot.config_check import check_accounts

    if args.log_level is None:  # every problem is printed once below, not logged too
        from civicbot.logging import configure_logging

        configure_logging(args.log_format or "auto", "critical")
    config = load_config(args.file)
    for warning in config.warnings:
        print(warning, file=sys.stderr)
    problems = check_accounts(config)
    if problems:
        raise ConfigError(problems)
    names = ", ".join(a.name for a in config.accounts)
    sections = sorted({s for a in config.accounts for s in a.plugins})
    print(f"{args.file}: OK (accounts: {names}; plugin sections: {', '.join(sections) or 'none'})")
    return EXIT_OK


def _plugins(args: argparse.Namespace) -> int:
    from civicbot.plugins import make_plugin_manager, plugin_hooks

    disabled: list[str] = []
    if args.config is not None:
        from civicbot.config import load_config

        disabled = load_config(args.config).accounts[0].disable_plugins
    pm = make_plugin_manager(disabled=disabled)
    for name, hooks in sorted(plugin_hooks(pm).items()):
        print(f"{name}")
        for hook in hooks:
            print(f"    {hook}")
    for name in pm.report.disabled:
        print(f"{name} (disabled)")
    for name, error in pm.report.failed.items():
        print(f"{name} (failed to load: {error})")
    return EXIT_OK


def _bot_for(args: argparse.Namespace, dry_run: bool | None = None) -> Any:
    from civicbot.bot import Bot

    return Bot.from_config(args.config, account=getattr(args, "account", None), dry_run=dry_run)


def _jobs(args: argparse.Namespace) -> int:
    bot = _bot_for(args)
    try:
        next_runs = bot.scheduler.next_run_times()
        for job_id, job in sorted(bot.jobs.items()):
            when = next_runs.get(job_id)
            print(f"{job_id}\t{job.plugin}\t{job.schedule.describe()}\t"
                  f"next: {when.isoformat() if when else 'never'}")
        for job_id, reason in sorted(bot.scheduler.unschedulable.items()):
            print(f"{job_id}\t-\tcannot be scheduled: {reason}")
    finally:
        bot.stop()
    return EXIT_OK


def _run_job(args: argparse.Namespace) -> int:
    bot = _bot_for(args, dry_run=args.dry_run or None)
    try:
        job = bot.scheduler.get(args.job_id)
        bot.account = bot._verify_credentials()
        results = bot.scheduler.run(job, bot.now(), record=False)
        if bot.scheduler.failures:
            print(f"error: job {job.id} failed (see the log)", file=sys.stderr)
            return EXIT_FAILURE
        for result in results:
            outcome = result.skipped or f"posted {result.status_id}"
            print(f"{result.draft.dedup_key}: {outcome}")
    finally:
        bot.stop()
    return EXIT_OK


def _preview(args: argparse.Namespace) -> int:
    from civicbot.preview import channel_previews, preview_posts

    bot = _bot_for(args, dry_run=True)
    try:
        at = _parse_at(args.at, bot) if args.at else None
        try:
            drafts = bot.scheduler.preview(args.job_id, at)
            posts: list[Any] = [*preview_posts(bot, drafts), *channel_previews(bot, drafts)]
        except JobError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        for post in posts:
            if args.json:
                print(json.dumps(post.to_json(), ensure_ascii=False))
            else:
                print(post.render())
                print()
        if not posts and not args.json:
            print("(no post)", file=sys.stderr)
    finally:
        bot.stop()
    return EXIT_OK


def _parse_at(text: str, bot: Any) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--at: expected an ISO 8601 time such as 2026-12-07T08:00+01:00, "
                          f"got {text!r}") from None
    return when.replace(tzinfo=bot.timezone) if when.tzinfo is None else when


def _channel_counts(store: Any, account: Any) -> dict[str, dict[str, int]]:
    """Sent, pending and failed posts of the account's other channels (Bluesky...): the
    channels its config names, and any plugin section with a queue in the store."""
    names = {n for n in account.channels if n != "mastodon"} | {
        s for s in account.plugins if store.count_posts(f"{account.name}#{s}")}
    return {name: {state: store.count_posts(f"{account.name}#{name}", state)
                   for state in ("sent", "pending", "failed")} for name in sorted(names)}


def _status(args: argparse.Namespace) -> int:
    from civicbot.cli_migrate import open_config_store
    from civicbot.cluster_status import lease_fields, lease_line
    from civicbot.config import load_config

    config = load_config(args.config)
    store = open_config_store(config)
    try:
        report: list[dict[str, Any]] = []
        for account in config.accounts:
            report.append({
                "account": account.name,
                "health": store.kv_get(account.name, "core", "health"),
                "paused": bool(store.kv_get(account.name, "core", "paused")),
                "server": store.kv_get(account.name, "core", "server"),
                "cursor": store.get_cursor(account.name, "notifications"),
                "posts_sent": store.count_posts(account.name, "sent"),
                "posts_pending": store.count_posts(account.name, "pending"),
                "sources": store.kv_items(account.name, "sources"),
                "channels": _channel_counts(store, account),
                "last_posts": [
                    {"dedup_key": p.dedup_key, "status_id": p.status_id, "sent_at": p.sent_at}
                    for p in store.recent_posts(account.name, 5)
                ],
                **lease_fields(store, account.name),
            })
    finally:
        store.close()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return EXIT_OK
    from civicbot.status_text import format_status

    for item in report:
        lines = format_status(item)
        if lease_line(item):
            lines.insert(2, str(lease_line(item)))
        if item.get("server"):
            lines.insert(1, f"  {server_line(item['server'], (item['health'] or {}).get('transport'))}")
        print("\n".join(lines))
    return EXIT_OK


def server_line(server: dict[str, Any], transport: str | None) -> str:
    """What the server supports and what civicbot does about it, in one line."""
    from civicbot.server import server_summary

    return server_summary(server, transport)


def _set_paused(args: argparse.Namespace) -> int:
    """Write the pause flag in the state store: a running daemon reads it before every post."""
    from civicbot.cli_migrate import open_config_store
    from civicbot.config import load_config
    from civicbot.state import AccountState

    config = load_config(args.config)
    paused = args.command == "pause"
    names = [config.account(args.account).name] if args.account else \
        [a.name for a in config.accounts]
    store = open_config_store(config)
    try:
        for name in names:
            core = AccountState(store, name).namespace("core")
            core.set("paused_by", f"civicbot {args.command} (command line)")
            core.set("pause_info", {  # who and when, for the desk
                "by": f"civicbot {args.command}",
                "at": datetime.now().astimezone().isoformat(timespec="minutes")})
            core.set("paused", paused)
            print(f"account {name}: {'paused' if paused else 'resumed'}")
    finally:
        store.close()
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from civicbot.daemon import Daemon
    from civicbot.memory import limit_malloc_arenas

    limit_malloc_arenas()

    daemon = Daemon.from_config(args.config, dry_run=args.dry_run or None, http=args.http)
    log = structlog.get_logger("civicbot.cli")

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal received; stopping", signal=signal.Signals(signum).name)
        daemon.request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    daemon.run()
    return EXIT_OK


def _ask(args: argparse.Namespace) -> int:
    from civicbot.cli_ask import run_ask

    return run_ask(args)


def _demo(args: argparse.Namespace) -> int:
    from civicbot.demo import run_demo

    if not args.verbose and args.log_level is None:  # the posts, not the bot's log lines
        from civicbot.logging import configure_logging

        configure_logging(args.log_format or "auto", "critical")
    code: int = run_demo(duration=args.duration, server=args.server)
    return code


def _migrate(args: argparse.Namespace) -> int:
    from civicbot.cli_migrate import run

    return run(args)


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": _run,
    "check-config": _check_config,
    "plugins": _plugins,
    "jobs": _jobs,
    "run-job": _run_job,
    "preview": _preview,
    "status": _status,
    "pause": _set_paused,
    "resume": _set_paused,
    "demo": _demo,
    "migrate": _migrate,
    "ask": _ask,
    "report": cli_report.run,
}


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
