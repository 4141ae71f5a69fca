"""What residents read, in French (default) or English: templates and formatting."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Final

from babel.dates import format_datetime
from babel.numbers import format_decimal

from civicbot import camel_hashtag
from civicbot_weather.model import Alert
from civicbot_weather.openmeteo import DayForecast
from civicbot_weather.wmo import describe

LEVEL_WORDS: Final[dict[str, dict[str, str]]] = {
    "fr": {"green": "verte", "yellow": "jaune", "orange": "orange", "red": "rouge"},
    "en": {"green": "green", "yellow": "yellow", "orange": "orange", "red": "red"},
}
LEVEL_EMOJI: Final[dict[str, str]] = {"green": "🟢", "yellow": "🟡", "orange": "🟠", "red": "🔴"}

PHENOMENON_WORDS: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "wind": "vent violent", "snow-ice": "neige-verglas", "thunderstorm": "orages",
        "fog": "brouillard", "heat": "canicule", "cold": "grand froid",
        "waves-submersion": "vagues-submersion", "forest-fire": "feux de forêt",
        "avalanches": "avalanches", "rain": "pluie", "flood": "crues",
        "rain-flood": "pluie-inondation",
    },
    "en": {
        "wind": "strong wind", "snow-ice": "snow and ice", "thunderstorm": "thunderstorms",
        "fog": "fog", "heat": "heat wave", "cold": "extreme cold",
        "waves-submersion": "waves and coastal flooding", "forest-fire": "forest fire",
        "avalanches": "avalanches", "rain": "rain", "flood": "floods",
        "rain-flood": "rain and flooding",
    },
}

T: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "title": "Vigilance {level} {phenomenon} – {area}",
        "end_title": "Fin de vigilance {level} {phenomenon} – {area}",
        "new": "{emoji} Vigilance {level} {phenomenon} – {area}",
        "update": "{emoji} Mise à jour : vigilance {level} {phenomenon} – {area}",
        "end": "✅ Fin de la vigilance {level} {phenomenon} – {area}",
        "from_to": "Du {onset} au {expires}.",
        "until": "Jusqu'au {expires}.",
        "from": "À partir du {onset}.",
        "official": "Informations officielles ({sender}) : {web}",
        "instruction": "Conseils : {text}",
        "level_up": "Le niveau passe de {old} à {new}.",
        "level_down": "Le niveau passe de {old} à {new}.",
        "times": "Les horaires ont changé.",
        "end_cancel": "{sender} a annulé cette vigilance.",
        "end_allclear": "{sender} a levé cette vigilance.",
        "end_lowered": "{sender} a abaissé le niveau à {new}.",
        "end_expired": "Cette vigilance a pris fin le {expires}, comme annoncé par {sender}.",
        "date": "{day} à {time}",
        "time": "H 'h' mm",
        "forecast_title": "{emoji} Météo à {place} – {day}",
        "temps": "🌡️ de {tmin} à {tmax}",
        "tmax": "🌡️ jusqu'à {tmax}",
        "rain": "☔ précipitations : {amount}",
        "dry": "☔ pas de précipitations prévues",
        "wind": "💨 vent jusqu'à {speed}",
        "credit": "Prévisions : Open-Meteo.com (CC BY 4.0)",
        "short": "Aujourd'hui à {place} : {words} {emoji}, {temps}, {rain}, {wind}. "
                 "(Open-Meteo.com)",
        "short_temps": "de {tmin} à {tmax}",
        "short_rain": "{amount} de précipitations",
        "short_dry": "pas de précipitations",
        "short_wind": "vent jusqu'à {speed}",
        "unavailable": "La météo n'est pas disponible pour le moment, réessayez plus tard.",
        "none": "Aucune vigilance en cours pour {areas}.",
        "current": "{emoji} Vigilance {level} {phenomenon} – {area}{period}.",
        "current_until": ", jusqu'au {expires}",
        "current_from": ", du {onset} au {expires}",
        "stale": " Attention : la dernière vérification auprès de la source officielle a "
                 "échoué, cette information peut être incomplète.",
        "unchecked": " Attention : les sources officielles n'ont pas encore été consultées, "
                     "cette information peut être incomplète.",
        "and": " et ",
    },
    "en": {
        "title": "{Level} warning: {phenomenon} – {area}",
        "end_title": "End of {level} warning: {phenomenon} – {area}",
        "new": "{emoji} {Level} warning: {phenomenon} – {area}",
        "update": "{emoji} Update: {level} warning, {phenomenon} – {area}",
        "end": "✅ End of the {level} warning: {phenomenon} – {area}",
        "from_to": "From {onset} to {expires}.",
        "until": "Until {expires}.",
        "from": "From {onset}.",
        "official": "Official information ({sender}): {web}",
        "instruction": "Advice: {text}",
        "level_up": "The level goes from {old} to {new}.",
        "level_down": "The level goes from {old} to {new}.",
        "times": "The times have changed.",
        "end_cancel": "{sender} cancelled this warning.",
        "end_allclear": "{sender} lifted this warning.",
        "end_lowered": "{sender} lowered the level to {new}.",
        "end_expired": "This warning ended on {expires}, as announced by {sender}.",
        "date": "{day}, {time}",
        "time": "HH:mm",
        "forecast_title": "{emoji} Weather in {place} – {day}",
        "temps": "🌡️ from {tmin} to {tmax}",
        "tmax": "🌡️ up to {tmax}",
        "rain": "☔ precipitation: {amount}",
        "dry": "☔ no precipitation expected",
        "wind": "💨 wind up to {speed}",
        "credit": "Forecast: Open-Meteo.com (CC BY 4.0)",
        "short": "Today in {place}: {words} {emoji}, {temps}, {rain}, {wind}. (Open-Meteo.com)",
        "short_temps": "from {tmin} to {tmax}",
        "short_rain": "{amount} of precipitation",
        "short_dry": "no precipitation",
        "short_wind": "wind up to {speed}",
        "unavailable": "The forecast is not available at the moment, please try again later.",
        "none": "No weather warning in force for {areas}.",
        "current": "{emoji} {Level} warning: {phenomenon} – {area}{period}.",
        "current_until": ", until {expires}",
        "current_from": ", from {onset} to {expires}",
        "stale": " Warning: the last check with the official source failed, this information "
                 "may be incomplete.",
        "unchecked": " Warning: the official sources have not been checked yet, this "
                     "information may be incomplete.",
        "and": " and ",
    },
}


class Texts:
    """Formatting in one language and time zone."""

    def __init__(self, language: str, zone: tzinfo) -> None:
        self.language = language if language in T else "fr"
        self.t = T[self.language]
        self.zone = zone

    # -- small pieces ---------------------------------------------------------------------------
    def day(self, moment: datetime) -> str:
        """``samedi 1er octobre`` / ``Saturday 1 October`` (``moment`` already local)."""
        weekday = format_datetime(moment, "EEEE", locale=self.language)
        month = format_datetime(moment, "MMMM", locale=self.language)
        number = "1er" if moment.day == 1 and self.language == "fr" else str(moment.day)
        return f"{weekday} {number} {month}"

    def when(self, moment: datetime) -> str:
        local = moment.astimezone(self.zone)
        time = format_datetime(local, self.t["time"], tzinfo=self.zone, locale=self.language)
        return self.t["date"].format(day=self.day(local), time=time)

    def number(self, value: float, pattern: str = "#,##0.#") -> str:
        return format_decimal(value, pattern, locale=self.language)

    def level(self, level: str) -> str:
        return LEVEL_WORDS[self.language].get(level, level)

    def phenomenon(self, alert: Alert) -> str:
        words = PHENOMENON_WORDS[self.language].get(alert.phenomenon)
        if words is None and alert.phenomenon.startswith("vigilance:"):  # an id new to us
            number = alert.phenomenon.removeprefix("vigilance:")
            return f"phénomène n° {number}" if self.language == "fr" else f"phenomenon {number}"
        return words or (alert.event or alert.phenomenon.removeprefix("event:")).lower()

    def _fields(self, alert: Alert, level: str | None = None) -> dict[str, str]:
        word = self.level(level or alert.level)
        return {"level": word, "Level": word[:1].upper() + word[1:],
                "phenomenon": self.phenomenon(alert), "area": alert.area,
                "emoji": LEVEL_EMOJI.get(level or alert.level, "⚠️")}

    def period(self, alert: Alert) -> str:
        if alert.onset and alert.expires:
            return self.t["from_to"].format(onset=self.when(alert.onset),
                                            expires=self.when(alert.expires))
        if alert.expires:
            return self.t["until"].format(expires=self.when(alert.expires))
        if alert.onset:
            return self.t["from"].format(onset=self.when(alert.onset))
        return ""

    def official(self, alert: Alert) -> str:
        return self.t["official"].format(sender=alert.sender or "?", web=alert.web) \
            if alert.web else ""

    @staticmethod
    def hashtags(tags: list[str]) -> str:
        return " ".join(camel_hashtag(tag) for tag in tags)

    @staticmethod
    def _join(*blocks: str) -> str:
        return "\n\n".join(b for b in blocks if b.strip())

    # -- alert posts ----------------------------------------------------------------------------
    def spoiler(self, alert: Alert, *, end: bool = False, level: str | None = None) -> str:
        return self.t["end_title" if end else "title"].format(**self._fields(alert, level))

    def new_alert(self, alert: Alert, tags: list[str]) -> str:
        head = "\n".join(x for x in (self.t["new"].format(**self._fields(alert)),
                                     self.period(alert), self.official(alert)) if x)
        advice = self.t["instruction"].format(text=alert.instruction) if alert.instruction else ""
        return self._join(head, alert.description, advice, self.hashtags(tags))

    def update_alert(self, alert: Alert, old_level: str, times_changed: bool,
                     tags: list[str]) -> str:
        changes = []
        if old_level != alert.level:
            changes.append(self.t["level_up"].format(old=self.level(old_level),
                                                     new=self.level(alert.level)))
        if times_changed:
            changes.append(self.t["times"])
        head = "\n".join(x for x in (self.t["update"].format(**self._fields(alert)),
                                     " ".join(changes), self.period(alert),
                                     self.official(alert)) if x)
        details = ""
        if old_level != alert.level:
            advice = (self.t["instruction"].format(text=alert.instruction)
                      if alert.instruction else "")
            details = self._join(alert.description, advice)
        return self._join(head, details, self.hashtags(tags))

    def end_alert(self, alert: Alert, reason: str, level: str, tags: list[str],
                  new_level: str = "") -> str:
        sender = alert.sender or "?"
        if reason == "expired" and alert.expires is not None:
            why = self.t["end_expired"].format(expires=self.when(alert.expires), sender=sender)
        elif reason == "lowered":
            why = self.t["end_lowered"].format(sender=sender, new=self.level(new_level))
        elif reason == "cancel":
            why = self.t["end_cancel"].format(sender=sender)
        else:
            why = self.t["end_allclear"].format(sender=sender)
        head = "\n".join(x for x in (self.t["end"].format(**self._fields(alert, level)), why,
                                     self.official(alert)) if x)
        return self._join(head, self.hashtags(tags))

    # -- commands -------------------------------------------------------------------------------
    def no_warning(self, areas: list[str]) -> str:
        names = areas[0] if len(areas) == 1 else (
            ", ".join(areas[:-1]) + self.t["and"] + areas[-1])
        return self.t["none"].format(areas=names)

    def current(self, alert: Alert, now: datetime) -> str:
        period = ""
        if alert.onset and alert.expires and alert.onset > now:
            period = self.t["current_from"].format(onset=self.when(alert.onset),
                                                   expires=self.when(alert.expires))
        elif alert.expires:
            period = self.t["current_until"].format(expires=self.when(alert.expires))
        text = self.t["current"].format(period=period, **self._fields(alert))
        return f"{text} {alert.web}" if alert.web else text

    # -- forecast -------------------------------------------------------------------------------
    def _temp(self, value: float, unit: str) -> str:
        return f"{self.number(value)} {unit}"

    def forecast(self, place: str, fc: DayForecast, tags: list[str]) -> str:
        emoji, words = describe(fc.weather_code, self.language)
        day = self.day(datetime(fc.day.year, fc.day.month, fc.day.day, 12))
        lines = [self.t["forecast_title"].format(emoji=emoji, place=place, day=day),
                 words[:1].upper() + words[1:]]
        if fc.temperature_min is not None and fc.temperature_max is not None:
            lines.append(self.t["temps"].format(
                tmin=self._temp(fc.temperature_min, fc.temperature_unit),
                tmax=self._temp(fc.temperature_max, fc.temperature_unit)))
        elif fc.temperature_max is not None:
            lines.append(self.t["tmax"].format(
                tmax=self._temp(fc.temperature_max, fc.temperature_unit)))
        if fc.precipitation is not None:
            lines.append(self.t["rain"].format(amount=f"{self.number(fc.precipitation)} "
                                               f"{fc.precipitation_unit}")
                         if fc.precipitation >= 0.1 else self.t["dry"])
        if fc.wind_max is not None:
            lines.append(self.t["wind"].format(
                speed=f"{self.number(fc.wind_max, '#,##0')} {fc.wind_unit}"))
        lines.append(self.t["credit"])
        return self._join("\n".join(lines), self.hashtags(tags))

    def forecast_short(self, place: str, fc: DayForecast) -> str:
        emoji, words = describe(fc.weather_code, self.language)
        parts = {"temps": "", "rain": "", "wind": ""}
        if fc.temperature_min is not None and fc.temperature_max is not None:
            parts["temps"] = self.t["short_temps"].format(
                tmin=self._temp(fc.temperature_min, fc.temperature_unit),
                tmax=self._temp(fc.temperature_max, fc.temperature_unit))
        if fc.precipitation is not None:
            parts["rain"] = (self.t["short_rain"].format(
                amount=f"{self.number(fc.precipitation)} {fc.precipitation_unit}")
                if fc.precipitation >= 0.1 else self.t["short_dry"])
        if fc.wind_max is not None:
            parts["wind"] = self.t["short_wind"].format(
                speed=f"{self.number(fc.wind_max, '#,##0')} {fc.wind_unit}")
        text = self.t["short"].format(place=place, words=words, emoji=emoji, **parts)
        while ", ," in text or ", ." in text:
            text = text.replace(", ,", ",").replace(", .", ".")
        return text
