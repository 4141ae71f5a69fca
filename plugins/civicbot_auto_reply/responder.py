"""From a mention to (at most) one reply.

Order of decisions, for each mention:

1. already answered (a reply with this mention's dedup key exists: re-delivery, edit) → nothing;
2. refusals: own account, bot accounts, ``#nobot``/``#noreply`` profiles → nothing;
3. the text (plain, without mentions nor links) starts with a command name → that command
   (admin-only commands only for admins: for anyone else the word is ordinary text);
4. while the bot is paused only admin commands are answered;
5. cooldown of the sender and cap of the conversation (admins are exempt);
6. the most specific answer: a command the text starts with; else the best of a command named
   anywhere in a short question and the rules (more words matched wins; on a tie the rules,
   in the file's order); else the fallback (or nothing).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from civicbot import Bot, Command, CommandContext
from civicbot_auto_reply import texts
from civicbot_auto_reply.builtin_commands import HELP_NAMES
from civicbot_auto_reply.config import AutoReplyConfig, Localised, Rule
from civicbot_auto_reply.etiquette import Limits, is_admin, refusal
from civicbot_auto_reply.matching import (
    MATCH_BUDGET,
    FoldedText,
    Found,
    KeywordMatcher,
    MatchTimeout,
    RegexMatcher,
    find_command,
    match_command,
)
from civicbot_auto_reply.sanitize import mention_text, sender_name, truncate
from civicbot_auto_reply.templates import render

#: Replies are never longer than this (Mastodon's usual limit), @mention included.
MAX_REPLY = 500
#: Daily counters of what answered (``command:NAME``, ``rule:KEYWORD``, ``fallback``), read by
#: ``civicbot report``: counts only, never who asked.
ANSWERS_CATEGORY = "auto_reply.answers"


def dedup_key(status: Mapping[str, Any]) -> str:
    return f"auto_reply:{status['id']}"


def rule_label(rule: Rule) -> str:
    """``rule:`` and the rule's first keyword (or its regular expression)."""
    return f"rule:{rule.keywords[0] if rule.keywords else rule.regex or '?'}"


def choose(value: Localised, language: str | None, default_language: str) -> tuple[str, str]:
    """The template for the resident's language if there is one, else the bot's language."""
    if isinstance(value, str):
        return value, default_language
    return texts.pick_with_language(value, language, default_language)


@dataclass
class CompiledRule:
    rule: Rule
    matcher: KeywordMatcher | RegexMatcher

    def search(self, text: str, folded: FoldedText | None = None,
               deadline: float | None = None) -> Found | None:
        """The match in ``text``; :class:`MatchTimeout` once ``deadline`` (monotonic) passed."""
        if isinstance(self.matcher, KeywordMatcher) or deadline is None:
            return self.matcher.search(text, folded)  # keywords: built by us, linear
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise MatchTimeout("no time left for this mention's regular expressions")
        return self.matcher.search(text, folded, remaining)


@dataclass
class Answer:
    text: str
    language: str
    admin: bool = False
    #: Our own long text (the "aide" list): posted whole, as a numbered thread if needed,
    #: instead of being cut.
    thread: bool = False
    #: What answered, for the daily counters: ``command:NAME``, ``rule:KEYWORD``, ``fallback``.
    label: str = ""


@dataclass
class Decision:
    """The reply to a mention, or why there is none."""

    answer: Answer | None = None
    reason: str = ""
    acct: str = ""
    conversation: str = ""
    #: What answered: "command 'agenda'", "rule 2" (1-based, in the file's order), "fallback".
    chosen: str = ""
    log_event: str = ""
    log_fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Responder:
    """Everything the plugin keeps for one bot."""

    bot: Bot
    config: AutoReplyConfig
    rules: list[CompiledRule] = field(default_factory=list)
    _local_domains: set[str] | None = None

    def __post_init__(self) -> None:
        for rule in self.config.rules:
            matcher: KeywordMatcher | RegexMatcher = (
                RegexMatcher(rule.regex) if rule.regex is not None
                else KeywordMatcher(rule.keywords))
            self.rules.append(CompiledRule(rule, matcher))
        self.limits = Limits(self.bot, self.config.cooldown, self.config.max_replies_per_thread)

    # -- helpers ---------------------------------------------------------------------------
    def local_domains(self) -> set[str]:
        """Domains of the bot's own instance (local accounts have no domain in their acct)."""
        if self._local_domains is None:
            domains: set[str] = set()
            for url in (self.bot.account.get("url"), self.bot.settings.mastodon.api_base_url):
                host = urlsplit(str(url or "")).hostname
                if host:
                    domains.add(host)
            try:
                domain = self.bot.client.instance_v2().get("domain")
                if domain:
                    domains.add(str(domain))
            except Exception as exc:  # the check still works with the URL hosts
                self.bot.log.warning("could not read the instance's domain", error=str(exc))
            self._local_domains = domains
        return self._local_domains

    def is_admin(self, acct: str) -> bool:
        return bool(self.config.admins) and is_admin(acct, self.config.admins,
                                                     self.local_domains())

    def resident_language(self, status: Mapping[str, Any]) -> str:
        language = str(status.get("language") or "").split("-")[0].lower()
        return language or self.bot.language

    def rule_help(self, language: str) -> list[str]:
        return [choose(r.rule.help, language, self.bot.language)[0]
                for r in self.rules if r.rule.help is not None]

    # -- the decision ----------------------------------------------------------------------
    def handle(self, status: Mapping[str, Any], notification: Mapping[str, Any]) -> None:
        now = self.bot.now()  # the time of the decision, recorded for the cooldown
        decision = self.decide(status, notification, now)
        if decision.answer is None:
            if decision.log_event:
                self.bot.log.info(decision.log_event, **decision.log_fields)
            return
        self.send(status, decision.acct, decision.conversation, decision.answer, now)

    def decide(self, status: Mapping[str, Any], notification: Mapping[str, Any],
               now: datetime) -> Decision:
        """What the bot answers to ``status`` (nothing is sent nor recorded): the reply, or
        why there is none. ``civicbot ask`` prints this."""
        bot = self.bot
        key = dedup_key(status)
        account: Mapping[str, Any] = status.get("account") or {}
        acct = str(account.get("acct") or "")
        where = {"acct": acct, "status_id": status["id"]}
        if bot.state.post(key) is not None:
            return Decision(reason="already answered", log_event="mention already answered; "
                            "skipped", log_fields={"status_id": status["id"]}, acct=acct)
        reason = refusal(bot, account, self.config.allow_bots)
        if reason is not None:
            return Decision(reason=reason, log_event="mention not answered",
                            log_fields={"reason": reason, **where}, acct=acct)
        text = mention_text(str(status.get("content") or ""))
        admin = self.is_admin(acct)
        usable = [c for c in bot.commands if admin or not c.admin_only]
        found = match_command(text, usable)
        admin_command = found is not None and found.command.admin_only
        if bot.paused and not admin_command:
            return Decision(reason="the bot is paused", acct=acct,
                            log_event="bot paused; mention not answered", log_fields=where)
        conversation = self.limits.conversation(status)
        if not admin:
            if self.limits.cooling_down(acct, now):
                return Decision(reason="cooldown", log_event="mention not answered",
                                log_fields={"reason": "cooldown", **where}, acct=acct)
            if self.limits.too_many_exchanges(acct, now):
                bot.count("auto_reply.loop_suspected")
                loop = "too many exchanges with this account (a loop with another bot?)"
                return Decision(reason=loop, log_event="mention not answered",
                                log_fields={"reason": loop, **where}, acct=acct)
            if self.limits.thread_full(conversation):
                return Decision(reason="conversation cap", log_event="mention not answered",
                                log_fields={"reason": "conversation cap", **where,
                                            "conversation": conversation}, acct=acct)
        language = self.resident_language(status)
        if found is None:
            found = find_command(text, usable)
        try:
            rule = self.best_rule(text)
        except MatchTimeout as exc:
            # skipped for good (the notification is still recorded as handled, so it is not
            # replayed at the next start): one mention must not hold every other one
            bot.count("auto_reply.mention_too_slow")
            return Decision(reason="the FAQ's regular expressions took too long on it",
                            log_event="mention skipped: the FAQ's regular expressions took "
                            "too long on it", log_fields={**where, "length": len(text),
                                                          "error": str(exc)}, acct=acct)
        if found is not None and (found.at_start or rule is None
                                  or found.score > rule[1].score):
            answer = self.run_command(found.command, found.args, status, notification, acct,
                                      language, admin)
            chosen = f"command {found.name!r}"
        else:
            answer = self.from_rules(text, account, language, rule)
            chosen = (f"rule {rule[0] + 1}" if rule is not None else "fallback")
        if answer is None:
            reason = ("no rule matched and the fallback is disabled (fallback: null)"
                      if chosen == "fallback" and self.config.fallback is None
                      else f"{chosen} gave no text")
            return Decision(reason=reason, acct=acct, conversation=conversation, chosen=chosen)
        return Decision(answer=answer, acct=acct, conversation=conversation, chosen=chosen)

    def best_rule(self, text: str) -> tuple[int, Found] | None:
        """The most specific matching rule (index, match); ties go to the first in the file."""
        best: tuple[int, Found] | None = None
        folded = FoldedText.of(text)  # once for every keyword rule
        deadline = time.monotonic() + MATCH_BUDGET  # all the regular expressions together
        for index, compiled in enumerate(self.rules):
            found = compiled.search(text, folded, deadline)
            if found is not None and (best is None or found.score > best[1].score):
                best = (index, found)
        return best

    def run_command(self, command: Command, args: str, status: Mapping[str, Any],
                    notification: Mapping[str, Any], acct: str, language: str,
                    admin: bool) -> Answer | None:
        lang = language if language in texts.LANGUAGES else self.bot.language
        ctx = CommandContext(bot=self.bot, status=dict(status), notification=dict(notification),
                             sender=acct, args=args, language=lang, is_admin=admin)
        try:
            text = command.handler(ctx)
        except Exception as exc:
            self.bot.log.error("command failed", command=command.name, plugin=command.plugin,
                               exc_info=exc)
            return None
        if not text or not text.strip():
            return None
        return Answer(text=text.strip(), language=lang, admin=command.admin_only,
                      thread=command.names == HELP_NAMES, label=f"command:{command.name}")

    def from_rules(self, text: str, account: Mapping[str, Any], language: str,
                   rule: tuple[int, Found] | None) -> Answer | None:
        sender = sender_name(dict(account))
        if rule is not None:
            index, found = rule
            compiled = self.rules[index]
            source, lang = choose(compiled.rule.reply, language, self.bot.language)
            return self.render(source, lang, sender, found, rule_label(compiled.rule))
        if self.config.fallback is None:
            return None
        source, lang = choose(self.config.fallback, language, self.bot.language)
        return self.render(source, lang, sender, Found(match=""), "fallback")

    def render(self, source: str, language: str, sender: str, found: Found,
               label: str = "") -> Answer | None:
        values = {"sender": sender, "match": found.match, "groups": found.groups,
                  "named": found.named, "language": language}
        try:
            text = render(source, values)
        except Exception as exc:
            self.bot.log.error("reply template failed", template=source[:80], exc_info=exc)
            return None
        return Answer(text=text, language=language, label=label) if text else None

    def send(self, status: Mapping[str, Any], acct: str, conversation: str,
             answer: Answer, now: datetime) -> None:
        bot = self.bot
        limit = min(MAX_REPLY, bot.publisher.max_characters)
        body = answer.text if answer.thread else truncate(answer.text, limit - len(f"@{acct} "))
        result = bot.reply(
            status, body, dedup_key=dedup_key(status), language=answer.language,
            # an admin's command is answered privately, even while paused
            visibility="direct" if answer.admin else None, ignore_pause=answer.admin,
        )
        if result.statuses:
            self.limits.record(acct, status, conversation,
                               [str(s["id"]) for s in result.statuses], now)
            if answer.label and not answer.admin:
                bot.state.add_daily_count(ANSWERS_CATEGORY, answer.label, now.date())
            bot.log.info("mention answered", acct=acct, status_id=status["id"],
                         reply_id=result.status_id)
        else:
            bot.log.info("reply not sent", acct=acct, status_id=status["id"],
                         reason=result.skipped)
