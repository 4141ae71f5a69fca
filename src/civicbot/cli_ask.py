"""``civicbot ask "question" --config F [--json]``: the reply the bot would give, or why none.

For the communication team: check the FAQ of the auto-reply plugin (and the commands of the
other plugins) without writing Python, without posting and without connecting to the
instance. The state store is read when it exists, so a cooldown or a pause shows; nothing is
written to it.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from typing import Any
from urllib.parse import urlsplit

from civicbot.errors import ConfigError

DEFAULT_SENDER = "habitant@example.org"


def add_parser(sub: Any) -> None:
    ask = sub.add_parser("ask", help="print the reply the bot would give to a mention "
                                     "(nothing is posted)")
    ask.add_argument("question", help='the text of the mention, e.g. "Horaires de la mairie ?"')
    ask.add_argument("--config", required=True)
    ask.add_argument("--json", action="store_true", help="one JSON object")
    ask.add_argument("--account", default=None, help="the account (several in the config)")
    ask.add_argument("--from", dest="sender", default=DEFAULT_SENDER,
                     help=f"who asks, as user@instance (default {DEFAULT_SENDER})")
    ask.add_argument("--language", default=None,
                     help="the language of the mention (default: the bot's)")
    ask.add_argument("--profile", default="",
                     help="the asker's profile text (e.g. '#nobot' to see a refusal)")
    ask.add_argument("--bot-account", action="store_true",
                     help="the asker is a bot account")


def run_ask(args: argparse.Namespace) -> int:
    from pathlib import Path

    from civicbot.bot import Bot
    from civicbot.config import load_config
    from civicbot.state import SQLiteStateStore

    if getattr(args, "log_level", None) is None:  # the answer, not the bot's log lines
        from civicbot.logging import configure_logging

        configure_logging(getattr(args, "log_format", None) or "auto", "error")
    config = load_config(args.config)
    settings = config.account(args.account)
    state = Path(config.core.state)
    store = SQLiteStateStore(state if state.is_file() else ":memory:")
    bot = Bot.from_settings(settings, dry_run=True, store=store)
    try:
        decision = _decide(bot, args)
    finally:
        bot.stop()
        store.close()
    if decision is None:
        raise ConfigError(f"{config.filename}: no plugins.auto_reply section: the bot answers "
                          "no mention (add the section, see docs/plugins/auto_reply.md)")
    answer = decision.answer
    if args.json:
        print(json.dumps({
            "question": args.question,
            "reply": answer.text if answer else None,
            "language": answer.language if answer else None,
            "answered_by": decision.chosen or None,
            "reason": None if answer else decision.reason,
        }, ensure_ascii=False))
    elif answer is None:
        print(f"no reply: {decision.reason}")
    else:
        print(f"@{decision.acct} {answer.text}")
        print(f"({decision.chosen}, language {answer.language})", file=sys.stderr)
    return 0


def _decide(bot: Any, args: argparse.Namespace) -> Any:
    try:
        from civicbot_auto_reply import responder_for
    except ImportError:  # pragma: no cover - the plugin ships with civicbot
        return None
    responder = responder_for(bot)
    if responder is None:
        return None
    # no connection: the bot's own domain is the configured instance's
    host = urlsplit(bot.settings.mastodon.api_base_url).hostname
    responder._local_domains = {host} if host else set()
    sender = args.sender.lstrip("@")
    status = {
        "id": "civicbot-ask",
        "content": f"<p>{html.escape(args.question)}</p>",
        "language": args.language,
        "visibility": "public",
        "in_reply_to_id": None,
        "conversation_id": None,
        "account": {"id": "civicbot-ask", "acct": sender, "username": sender.split("@")[0],
                    "display_name": "", "note": html.escape(args.profile),
                    "bot": bool(args.bot_account), "fields": []},
    }
    notification = {"id": "civicbot-ask", "type": "mention", "status": status}
    return responder.decide(status, notification, bot.now())
