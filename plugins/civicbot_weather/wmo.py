"""WMO weather interpretation codes (Open-Meteo's ``weather_code``) in words, with an emoji."""

from __future__ import annotations

from typing import Final

#: code -> (emoji, French, English)
WMO_CODES: Final[dict[int, tuple[str, str, str]]] = {
    0: ("☀️", "ciel dégagé", "clear sky"),
    1: ("🌤️", "plutôt dégagé", "mainly clear"),
    2: ("⛅", "partiellement nuageux", "partly cloudy"),
    3: ("☁️", "couvert", "overcast"),
    45: ("🌫️", "brouillard", "fog"),
    48: ("🌫️", "brouillard givrant", "depositing rime fog"),
    51: ("🌦️", "bruine légère", "light drizzle"),
    53: ("🌦️", "bruine modérée", "moderate drizzle"),
    55: ("🌦️", "bruine dense", "dense drizzle"),
    56: ("🌧️", "bruine verglaçante légère", "light freezing drizzle"),
    57: ("🌧️", "bruine verglaçante dense", "dense freezing drizzle"),
    61: ("🌧️", "pluie faible", "slight rain"),
    63: ("🌧️", "pluie modérée", "moderate rain"),
    65: ("🌧️", "pluie forte", "heavy rain"),
    66: ("🌧️", "pluie verglaçante faible", "light freezing rain"),
    67: ("🌧️", "pluie verglaçante forte", "heavy freezing rain"),
    71: ("🌨️", "chute de neige faible", "slight snowfall"),
    73: ("🌨️", "chute de neige modérée", "moderate snowfall"),
    75: ("❄️", "chute de neige forte", "heavy snowfall"),
    77: ("🌨️", "grains de neige", "snow grains"),
    80: ("🌦️", "averses de pluie faibles", "slight rain showers"),
    81: ("🌦️", "averses de pluie modérées", "moderate rain showers"),
    82: ("⛈️", "averses de pluie violentes", "violent rain showers"),
    85: ("🌨️", "averses de neige faibles", "slight snow showers"),
    86: ("🌨️", "averses de neige fortes", "heavy snow showers"),
    95: ("⛈️", "orage", "thunderstorm"),
    96: ("⛈️", "orage avec grêle faible", "thunderstorm with slight hail"),
    99: ("⛈️", "orage avec forte grêle", "thunderstorm with heavy hail"),
}


def describe(code: int | None, language: str) -> tuple[str, str]:
    """``(emoji, words)`` for a WMO code; unknown codes give a neutral text."""
    if code is None or code not in WMO_CODES:
        return "🌡️", ("temps non précisé" if language == "fr" else "weather not specified")
    emoji, fr, en = WMO_CODES[code]
    return emoji, fr if language == "fr" else en
