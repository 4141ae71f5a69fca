"""The texts residents and admins read, in French (default) and English.

Every entry maps a language code to a text; :func:`pick` chooses the resident's language when a
text exists for it, else the bot's language, else French.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Languages every built-in text exists in.
LANGUAGES: tuple[str, ...] = ("fr", "en")

FALLBACK: dict[str, str] = {
    "fr": "Merci pour votre message ! Écrivez « aide » pour voir ce que je sais faire.",
    "en": "Thank you for your message! Write “help” to see what I can do.",
}

HELP_HEADER: dict[str, str] = {
    "fr": "Voici ce que je sais faire (mentionnez-moi avec le mot-clé) :",
    "en": "Here is what I can do (mention me with the keyword):",
}

HELP_ADMIN_MARK: dict[str, str] = {"fr": " (admin)", "en": " (admin)"}

# One-line descriptions of this plugin's own commands, shown by "aide".
HELP_LINE_HELP: dict[str, str] = {
    "fr": "la liste de ce que je sais faire",
    "en": "the list of what I can do",
}
HELP_LINE_PAUSE: dict[str, str] = {
    "fr": "suspendre toutes les publications et réponses automatiques",
    "en": "pause every automatic post and reply",
}
HELP_LINE_RESUME: dict[str, str] = {
    "fr": "reprendre les publications et réponses automatiques",
    "en": "resume automatic posts and replies",
}
HELP_LINE_STATUS: dict[str, str] = {
    "fr": "l'état du robot et ses prochaines tâches",
    "en": "the bot's state and its next jobs",
}

PAUSED: dict[str, str] = {
    "fr": "C'est noté : je suspends toutes mes publications et réponses automatiques. "
          "Écrivez « reprendre » pour me relancer.",
    "en": "Done: every automatic post and reply is paused. Write “resume” to start again.",
}
ALREADY_PAUSED: dict[str, str] = {
    "fr": "Je suis déjà en pause. Écrivez « reprendre » pour me relancer.",
    "en": "I am already paused. Write “resume” to start again.",
}
RESUMED: dict[str, str] = {
    "fr": "C'est reparti : mes publications et réponses automatiques reprennent.",
    "en": "Back to work: automatic posts and replies are on again.",
}
NOT_PAUSED: dict[str, str] = {
    "fr": "Je n'étais pas en pause : tout fonctionne normalement.",
    "en": "I was not paused: everything runs normally.",
}

STATUS_RUNNING: dict[str, str] = {"fr": "en service", "en": "running"}
STATUS_PAUSED: dict[str, str] = {"fr": "EN PAUSE", "en": "PAUSED"}
STATUS_STATE: dict[str, str] = {"fr": "État : {state}", "en": "State: {state}"}
STATUS_UPTIME: dict[str, str] = {"fr": "En service depuis {uptime}",
                                 "en": "Up for {uptime}"}
STATUS_STREAM: dict[str, str] = {
    "fr": "Flux : {stream} (file d'attente : {queue})",
    "en": "Stream: {stream} (queue: {queue})",
}
STATUS_LAST_POSTS: dict[str, str] = {"fr": "Derniers messages :", "en": "Last posts:"}
STATUS_NO_POSTS: dict[str, str] = {"fr": "Derniers messages : aucun",
                                   "en": "Last posts: none"}
STATUS_NEXT_JOBS: dict[str, str] = {"fr": "Prochaines tâches :", "en": "Next jobs:"}
STATUS_NO_JOBS: dict[str, str] = {"fr": "Prochaines tâches : aucune",
                                  "en": "Next jobs: none"}
STATUS_UNKNOWN: dict[str, str] = {"fr": "inconnu", "en": "unknown"}
#: The stream's states as the "statut" answer writes them.
STREAM_STATES: dict[str, dict[str, str]] = {
    "fr": {"connected": "connecté", "connecting": "connexion en cours",
           "reconnecting": "reconnexion en cours", "backoff": "en attente avant de se reconnecter",
           "polling": "consultation régulière", "stopped": "arrêté", "failed": "en échec"},
    "en": {"connected": "connected", "connecting": "connecting", "reconnecting": "reconnecting",
           "backoff": "waiting to reconnect", "polling": "polling", "stopped": "stopped",
           "failed": "failed"},
}

#: strftime formats of dates in the "statut" answer.
DATE_FORMAT: dict[str, str] = {"fr": "%d/%m à %H:%M", "en": "%d %b %H:%M"}
#: Units of the uptime: days, hours, minutes.
UPTIME_UNITS: dict[str, tuple[str, str, str]] = {"fr": ("j", "h", "min"),
                                                 "en": ("d", "h", "min")}


def pick(texts: Mapping[str, str], language: str | None, default_language: str) -> str:
    """The text for ``language`` if there is one, else for the bot's language, else French,
    else the first one."""
    for candidate in (language, default_language, "fr"):
        if candidate and candidate in texts:
            return texts[candidate]
    return next(iter(texts.values()))


def pick_with_language(
    texts: Mapping[str, str], language: str | None, default_language: str
) -> tuple[str, str]:
    """Like :func:`pick`, also returning the language of the chosen text."""
    for candidate in (language, default_language, "fr"):
        if candidate and candidate in texts:
            return texts[candidate], candidate
    first = next(iter(texts))
    return texts[first], first
