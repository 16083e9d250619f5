"""The text every text-based system sees: one function for items, one for dialogue contexts.

>>> item_text({"title": "Heat", "year": 1995, "genres": ["crime"], "director": ["Michael Mann"],
...            "cast": ["Al Pacino", "Robert De Niro", "Val Kilmer", "Jon Voight"], "plot": "A cop.",
...            "has_title": True})
'Heat (1995). Genres: crime. Director: Michael Mann. Cast: Al Pacino, Robert De Niro, Val Kilmer. Plot: A cop.'
>>> item_text({"title": None, "has_title": False})
'Unknown movie.'
>>> context_text([{"role": "seeker", "text": "I like horror"}, {"role": "recommender", "text": "Try It (2017)"}])
'System: Try It (2017) | User: I like horror'
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_CAST = 3  # first-billed actors; more adds tokens, not signal
MAX_PLOT_WORDS = 30  # item text is encoded with a short max_seq_length (see the retriever recipe)
ROLE_NAMES = {"seeker": "User", "recommender": "System"}


def item_text(item: dict, max_plot_words: int = MAX_PLOT_WORDS) -> str:
    """Title (year), genres, director, first cast, short plot; untitled items get a fixed placeholder."""
    if not item.get("has_title", True) or not item.get("title"):
        return "Unknown movie."
    parts = [f"{item['title']} ({item['year']})." if item.get("year") else f"{item['title']}."]
    if item.get("genres"):
        parts.append(f"Genres: {', '.join(item['genres'])}.")
    if item.get("director"):
        parts.append(f"Director: {', '.join(item['director'])}.")
    if item.get("cast"):
        parts.append(f"Cast: {', '.join(item['cast'][:MAX_CAST])}.")
    if item.get("plot"):
        words = item["plot"].split()
        parts.append("Plot: " + " ".join(words[:max_plot_words]) + ("..." if len(words) > max_plot_words else ""))
    return " ".join(parts)


def context_text(turns: Sequence[dict], feedback: str | None = None, max_turns: int = 8) -> str:
    """The last ``max_turns`` turns (plus an optional new user ``feedback``), **most recent first**.

    Reversed order on purpose: encoders truncate from the end, so the oldest turns are the ones cut.
    """
    turns = list(turns[-max_turns:])
    if feedback:
        turns.append({"role": "seeker", "text": feedback})
    text = " | ".join(f"{ROLE_NAMES[t['role']]}: {t['text']}" for t in reversed(turns))
    return text or "(no conversation yet)"
