"""Paths, sample sources and expected texts shared by the event_digest tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLES = ROOT / "examples" / "event_digest"
PARIS = ZoneInfo("Europe/Paris")
#: Monday 7 December 2026, 08:00: the run of the weekly digest the tests look at.
MONDAY = datetime(2026, 12, 7, 8, 0, tzinfo=PARIS)


def blois_sources() -> list[dict[str, Any]]:
    """The four example agendas: two iCalendar files and two JSON-LD pages."""
    return [
        {"name": "Ville", "ics": str(EXAMPLES / "ville.ics")},
        {"name": "Bibliothèque", "label": "de la Bibliothèque",
         "ics": str(EXAMPLES / "bibliotheque.ics")},
        {"name": "Musée", "jsonld": str(FIXTURES / "jsonld_musee_graph.html")},
        {"name": "Maison de la BD", "jsonld": str(FIXTURES / "jsonld_maison_bd_itemlist.html")},
    ]


#: The weekly digest of the four example agendas for the week of 7 December 2026 (500 chars).
WEEK_PART_1 = """📅 Cette semaine (7 – 13 décembre)

Lundi 7 décembre
• Exposition : les châteaux de la Loire en BD — Bibliothèque Abbé-Grégoire (jusqu'au 9 janvier)
• Marché de Noël — Place Louis-XII (jusqu'au 24 décembre)
https://ville.example.org/marche-de-noel
• Trésors de la Renaissance — Musée des Beaux-Arts (jusqu'au 3 janvier)

Mardi 8 décembre
• 18 h 30 · Conférence : Blois à la renaissance — Bibliothèque Abbé-Grégoire, auditorium
https://ville.example.org/conference-renaissance

1/3"""
WEEK_PART_2 = """Mercredi 9 décembre
• 10 h 30 · L'heure du conte — Bibliothèque Abbé-Grégoire
https://bibliotheque.example.org/heure-du-conte

Vendredi 11 décembre
• 18 h · Ouverture de la patinoire — Place de la Résistance (jusqu'au 3 janvier)

Samedi 12 décembre
• 10 h · Week-end de la BD jeunesse — 3 rue des Jacobins, Blois (jusqu'au 13 décembre)
https://maisonbd.example.org/agenda/bd-jeunesse
• 14 h · Club lecture ados — Bibliothèque Abbé-Grégoire
https://bibliotheque.example.org/club-ados

2/3"""
WEEK_PART_3 = """Samedi 12 décembre
• 15 h · Visite guidée : le château royal — Château royal de Blois
https://musee.example.org/visites/chateau-royal
• 16 h · Rencontre & dédicace avec une autrice de BD — Maison de la BD
https://maisonbd.example.org/agenda/dedicace

Dimanche 13 décembre
• 16 h · Concert de Noël des chœurs de Blois — Cathédrale Saint-Louis
https://ville.example.org/concert-de-noel

#AgendaBlois

3/3"""
