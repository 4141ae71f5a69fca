"""The words of the report, in French (default) and English."""

from __future__ import annotations

LANGUAGES = ("fr", "en")

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Rapport d'audience Mastodon",
        "intro": "Du {start} au {end} ({days} jours). Nombres agrégés uniquement : ce rapport "
                 "ne contient le nom d'aucun habitant.",
        "account": "Compte {name}",
        "contents": "Sommaire",
        "no_data": "Pas encore de données pour cette période.",
        "engagement_note": "Engagement = favoris + partages + réponses, compté pendant les 30 "
                           "jours qui suivent chaque publication.",
        "data_table": "Données du graphique",
        # followers
        "followers.title": "Abonnés au fil du temps",
        "followers.x": "Jour",
        "followers.y": "Nombre de comptes",
        "col.day": "Jour",
        "col.followers": "Abonnés",
        "col.following": "Abonnements",
        "col.statuses": "Publications (total)",
        # posts per week
        "weekly.title": "Publications par semaine, par extension et tâche",
        "weekly.x": "Semaine du",
        "weekly.y": "Publications",
        "col.week": "Semaine du",
        "col.source": "Extension · tâche",
        "col.posts": "Publications",
        # engagement
        "by_source.title": "Engagement par extension et tâche",
        "by_source.x": "Engagement par publication",
        "by_hour.title": "Engagement selon l'heure de publication",
        "by_hour.x": "Heure de publication",
        "by_weekday.title": "Engagement selon le jour de publication",
        "by_weekday.x": "Jour de publication",
        "engagement.y": "Engagement par publication",
        "col.median": "Engagement médian",
        "col.top": "Meilleur engagement",
        "col.hour": "Heure",
        "col.weekday": "Jour de la semaine",
        "median": "médiane",
        "top": "meilleure publication",
        # top posts
        "top_posts.title": "Les 10 publications les plus engageantes",
        "col.rank": "Rang",
        "col.date": "Publiée le",
        "col.favourites": "Favoris",
        "col.boosts": "Partages",
        "col.replies": "Réponses",
        "col.engagement": "Engagement",
        "col.link": "Lien",
        "open": "voir la publication",
        # answers
        "answers.title": "Questions des habitants : ce qui a répondu",
        "answers.x": "Mentions",
        "answers.note": "« Sans réponse prévue » compte les mentions qui ont reçu le message "
                        "par défaut : des questions que la FAQ ne couvre pas encore.",
        "col.answer": "Réponse",
        "col.count": "Mentions",
        "answer.command": "commande « {name} »",
        "answer.rule": "règle « {name} »",
        "answer.fallback": "sans réponse prévue (message par défaut)",
        "other": "hors civicbot",
        "replies": "réponses",
        "generated": "Produit par civicbot {version} le {when}.",
    },
    "en": {
        "title": "Mastodon audience report",
        "intro": "From {start} to {end} ({days} days). Aggregate counts only: this report "
                 "holds no resident's name.",
        "account": "Account {name}",
        "contents": "Contents",
        "no_data": "No data for this period yet.",
        "engagement_note": "Engagement = favourites + boosts + replies, counted during the 30 "
                           "days after each post.",
        "data_table": "Chart data",
        "followers.title": "Followers over time",
        "followers.x": "Day",
        "followers.y": "Accounts",
        "col.day": "Day",
        "col.followers": "Followers",
        "col.following": "Following",
        "col.statuses": "Posts (total)",
        "weekly.title": "Posts per week, by plugin and job",
        "weekly.x": "Week of",
        "weekly.y": "Posts",
        "col.week": "Week of",
        "col.source": "Plugin · job",
        "col.posts": "Posts",
        "by_source.title": "Engagement by plugin and job",
        "by_source.x": "Engagement per post",
        "by_hour.title": "Engagement by hour of posting",
        "by_hour.x": "Hour of posting",
        "by_weekday.title": "Engagement by day of posting",
        "by_weekday.x": "Day of posting",
        "engagement.y": "Engagement per post",
        "col.median": "Median engagement",
        "col.top": "Top engagement",
        "col.hour": "Hour",
        "col.weekday": "Day of the week",
        "median": "median",
        "top": "best post",
        "top_posts.title": "The 10 most engaging posts",
        "col.rank": "Rank",
        "col.date": "Posted on",
        "col.favourites": "Favourites",
        "col.boosts": "Boosts",
        "col.replies": "Replies",
        "col.engagement": "Engagement",
        "col.link": "Link",
        "open": "open the post",
        "answers.title": "Residents' questions: what answered",
        "answers.x": "Mentions",
        "answers.note": "“No prepared answer” counts the mentions that got the fallback "
                        "message: questions the FAQ does not cover yet.",
        "col.answer": "Answer",
        "col.count": "Mentions",
        "answer.command": "command “{name}”",
        "answer.rule": "rule “{name}”",
        "answer.fallback": "no prepared answer (fallback message)",
        "other": "not from civicbot",
        "replies": "replies",
        "generated": "Made by civicbot {version} on {when}.",
    },
}


def texts_for(language: str) -> dict[str, str]:
    """The words for ``language`` (``fr`` or ``en``; anything else raises ``ValueError``)."""
    if language not in TEXTS:
        raise ValueError(f"report language must be one of {', '.join(LANGUAGES)}, "
                         f"got {language!r}")
    return TEXTS[language]
