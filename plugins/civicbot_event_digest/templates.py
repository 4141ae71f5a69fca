"""Default French and English templates, and their sandboxed Jinja2 rendering.

Each piece of a post is its own small template, so that a digest can be cut into a thread
between events: ``header`` (first post), ``day`` (a day heading), ``event`` (one event),
``failure`` (a source that could not be loaded), ``footer`` (hashtags, last post), and
``new_event`` / ``reminder`` for announcements. Any of them can be replaced in the config.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from jinja2 import Template
from jinja2.sandbox import SandboxedEnvironment

from civicbot import camel_hashtag, template_sandbox
from civicbot_event_digest.config import Templates

_EVENT_FR = (
    "• {% if time %}{{ time }} · {% endif %}{{ title }}"
    "{% if venue %} — {{ venue }}{% endif %}"
    "{% if until %} (jusqu'au {{ until }}){% endif %}"
    "{% if url %}\n{{ url }}{% endif %}"
)
_EVENT_EN = (
    "• {% if time %}{{ time }} · {% endif %}{{ title }}"
    "{% if venue %} — {{ venue }}{% endif %}"
    "{% if until %} (until {{ until }}){% endif %}"
    "{% if url %}\n{{ url }}{% endif %}"
)

DEFAULTS: dict[str, dict[str, str]] = {
    "fr": {
        "header": (
            "{% if kind == 'this_week' %}📅 Cette semaine ({{ period }})"
            "{% elif kind == 'weekend' %}📅 Ce week-end ({{ period }})"
            "{% elif kind == 'today' %}📅 Aujourd'hui, {{ period }}"
            "{% else %}📅 Les {{ days }} prochains jours ({{ period }}){% endif %}"
        ),
        "day": "{{ day | upper_first }}",
        "event": _EVENT_FR,
        "failure": "⚠️ L'agenda {{ label }} n'a pas pu être chargé.",
        "footer": "{{ hashtags }}",
        "new_event": (
            "🆕 Nouveau dans l'agenda : {{ title }}\n{{ when | upper_first }}"
            "{% if venue %} — {{ venue }}{% endif %}"
            "{% if until %} (jusqu'au {{ until }}){% endif %}"
            "{% if url %}\n{{ url }}{% endif %}"
        ),
        "reminder": (
            "⏰ Rappel : {{ title }}\n{{ when | upper_first }}"
            "{% if venue %} — {{ venue }}{% endif %}"
            "{% if url %}\n{{ url }}{% endif %}"
        ),
    },
    "en": {
        "header": (
            "{% if kind == 'this_week' %}📅 This week ({{ period }})"
            "{% elif kind == 'weekend' %}📅 This weekend ({{ period }})"
            "{% elif kind == 'today' %}📅 Today, {{ period }}"
            "{% else %}📅 The next {{ days }} days ({{ period }}){% endif %}"
        ),
        "day": "{{ day | upper_first }}",
        "event": _EVENT_EN,
        "failure": "⚠️ The {{ name }} agenda could not be loaded.",
        "footer": "{{ hashtags }}",
        "new_event": (
            "🆕 New in the agenda: {{ title }}\n{{ when | upper_first }}"
            "{% if venue %} — {{ venue }}{% endif %}"
            "{% if until %} (until {{ until }}){% endif %}"
            "{% if url %}\n{{ url }}{% endif %}"
        ),
        "reminder": (
            "⏰ Reminder: {{ title }}\n{{ when | upper_first }}"
            "{% if venue %} — {{ venue }}{% endif %}"
            "{% if url %}\n{{ url }}{% endif %}"
        ),
    },
}

#: Short texts of the command replies and of the digest when nothing is on.
PHRASES: dict[str, dict[str, str]] = {
    "fr": {
        "agenda": "📅 Prochainement :",
        "weekend": "📅 Ce week-end :",
        "today": "📅 Aujourd'hui :",
        "none_agenda": "Aucun événement annoncé ces prochains jours.",
        "none_weekend": "Aucun événement annoncé ce week-end pour l'instant.",
        "none_today": "Aucun événement annoncé aujourd'hui.",
        "more": "… et {n} autres.",
        "more_one": "… et 1 autre.",
        "more_events": "… et {n} autres événements dans l'agenda.",
        "more_events_one": "… et 1 autre événement dans l'agenda.",
        "all": "Tout l'agenda : {url}",
        "failed": "Désolé, l'agenda n'a pas pu être chargé pour le moment.",
        "partial": "(Une partie de l'agenda n'a pas pu être chargée.)",
    },
    "en": {
        "agenda": "📅 Coming up:",
        "weekend": "📅 This weekend:",
        "today": "📅 Today:",
        "none_agenda": "No event announced in the coming days.",
        "none_weekend": "No event announced this weekend yet.",
        "none_today": "No event announced today.",
        "more": "… and {n} more.",
        "more_one": "… and 1 more.",
        "more_events": "… and {n} more events in the agenda.",
        "more_events_one": "… and 1 more event in the agenda.",
        "all": "Full agenda: {url}",
        "failed": "Sorry, the agenda could not be loaded right now.",
        "partial": "(Part of the agenda could not be loaded.)",
    },
}


def _upper_first(value: object) -> str:
    text = str(value)
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    env: SandboxedEnvironment = template_sandbox(autoescape=False, keep_trailing_newline=False)
    env.filters["upper_first"] = _upper_first
    return env


@lru_cache(maxsize=256)
def _compile(source: str) -> Template:
    return environment().from_string(source)


class TemplateSet:
    """The templates of one language, with overrides (digest's over plugin's over defaults)."""

    def __init__(self, language: str, *overrides: Templates | None) -> None:
        self.language = language
        self.sources = dict(DEFAULTS.get(language, DEFAULTS["en"]))
        for layer in overrides:
            if layer is not None:
                for name, value in layer.model_dump().items():
                    if value is not None:
                        self.sources[name] = value

    def render(self, template: str, /, **context: Any) -> str:
        return _compile(self.sources[template]).render(**context).strip()

    def phrase(self, name: str, **values: Any) -> str:
        return PHRASES.get(self.language, PHRASES["en"])[name].format(**values)


def render_text(source: str, **context: Any) -> str:
    return _compile(source).render(**context).strip()


def hashtag_line(tags: Iterable[str]) -> str:
    return " ".join(dict.fromkeys(camel_hashtag(t) for t in tags))
