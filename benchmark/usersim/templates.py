"""Prompt templates of the three simulator tasks and the fixed attribute format (docs/usersim.md shows examples).

Every prompt is a chat: a system message that sets the role, and a user message with the dialogue so far
(``history_text``: the last ``max_turns`` turns, oldest first, as ``User:``/``System:`` lines).

* feedback: history + the items the recommender just offered (title + short metadata) -> the seeker's next reply.
* attributes: history -> the target item's attributes, in the fixed format
  ``genres: a, b | director: x | cast: y, z`` (fields in this order, values comma-separated, ``none`` if empty).
* target: history (+ optional candidate titles) -> the title of the film the seeker ends up being recommended.

>>> format_attributes({"genres": ["horror"], "director": [], "cast": ["Bill Skarsgard", "Jaeden Martell"]})
'genres: horror | director: none | cast: Bill Skarsgard, Jaeden Martell'
>>> parse_attributes("genres: Horror, comedy | director: none | cast: Bill Skarsgard") == {
...     'genres': {'horror', 'comedy'}, 'director': set(), 'cast': {'bill skarsgard'}}
True
>>> parse_attributes("I think it is a horror movie") is None
True
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

ATTRIBUTE_FIELDS = ("genres", "director", "cast")
MAX_CAST = 3
ROLE = {"seeker": "User", "recommender": "System"}
MAX_TURNS = 6  # history turns per prompt (config usersim.max_turns): prompt length dominates CPU cost

SYSTEM = {
    "feedback": ("You are a person looking for a movie to watch, chatting with a movie recommender. Reply to the "
                 "recommender's last message in one or two short sentences, as this person would: say what you think "
                 "of the suggestions and what you are looking for."),
    "attributes": ("You read a conversation between a person looking for a movie and a recommender. Describe the "
                   "movie this person will be recommended, in the format: genres: ... | director: ... | cast: ..."),
    "target": ("You read a conversation between a person looking for a movie and a recommender. Name the movie this "
               "person will be recommended next. Answer with the title only."),
}


def history_text(turns: Sequence[dict], max_turns: int = MAX_TURNS) -> str:
    lines = [f"{ROLE[t['role']]}: {t['text']}" for t in turns[-max_turns:]]
    return "\n".join(lines) if lines else "(the conversation has not started)"


def item_line(item: dict) -> str:
    """``Title (Year) - genres; director`` (short metadata shown with each recommended item)."""
    name = item.get("name") or item.get("title") or "an unknown movie"
    extra = []
    if item.get("genres"):
        extra.append(", ".join(item["genres"][:3]))
    if item.get("director"):
        extra.append("directed by " + ", ".join(item["director"][:1]))
    return name + (f" - {'; '.join(extra)}" if extra else "")


OFFERED_MARKER = "The recommender now suggests:"  # starts the offered-items block (exempt from the guard)


def feedback_prompt(turns: Sequence[dict], recommended: Sequence[dict], max_turns: int = MAX_TURNS) -> list[dict]:
    offered = "\n".join(f"- {item_line(it)}" for it in recommended) or "- (nothing yet)"
    user = (f"Conversation so far:\n{history_text(turns, max_turns)}\n\n{OFFERED_MARKER}\n{offered}\n\n"
            "Write your reply.")
    return [{"role": "system", "content": SYSTEM["feedback"]}, {"role": "user", "content": user}]


def attributes_prompt(turns: Sequence[dict], max_turns: int = MAX_TURNS) -> list[dict]:
    user = f"Conversation so far:\n{history_text(turns, max_turns)}\n\nDescribe the movie."
    return [{"role": "system", "content": SYSTEM["attributes"]}, {"role": "user", "content": user}]


def target_prompt(turns: Sequence[dict], candidates: Sequence[str] = (), max_turns: int = MAX_TURNS) -> list[dict]:
    user = f"Conversation so far:\n{history_text(turns, max_turns)}\n\n"
    if candidates:
        user += "Candidates:\n" + "\n".join(f"- {c}" for c in candidates) + "\n\n"
    user += "Which movie?"
    return [{"role": "system", "content": SYSTEM["target"]}, {"role": "user", "content": user}]


def attribute_values(item: dict) -> dict[str, list[str]]:
    return {"genres": list(item.get("genres") or []), "director": list(item.get("director") or []),
            "cast": list(item.get("cast") or [])[:MAX_CAST]}


def format_attributes(values: dict[str, Sequence[str]]) -> str:
    return " | ".join(f"{f}: {', '.join(values.get(f) or []) or 'none'}" for f in ATTRIBUTE_FIELDS)


def parse_attributes(text: str) -> dict[str, set[str]] | None:
    """Parse the fixed format (case-insensitive, any field order); ``None`` when no field can be read."""
    out: dict[str, set[str]] = {f: set() for f in ATTRIBUTE_FIELDS}
    found = False
    for part in text.strip().splitlines()[0].split("|") if text.strip() else []:
        name, sep, value = part.partition(":")
        name = name.strip().lower()
        if not sep or name not in out:
            continue
        found = True
        values = {v.strip().lower() for v in value.split(",") if v.strip()}
        out[name] = values - {"none"}
    return out if found else None


def vote_attributes(answers: Sequence[str], share: float = 0.5) -> str:
    """Majority vote over sampled attribute answers: keep each value that at least ``share`` of the parseable
    answers give (at least the most voted genre), most voted first; ``""`` when none parses (a parse failure).

    >>> vote_attributes(["genres: horror, drama | cast: A", "genres: horror | cast: B", "genres: drama", "x"])
    'genres: drama, horror | director: none | cast: none'
    """
    parsed = [p for p in map(parse_attributes, answers) if p is not None]
    if not parsed:
        return ""
    out = {}
    for f in ATTRIBUTE_FIELDS:
        votes = Counter(v for p in parsed for v in p[f])
        ranked = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
        out[f] = [v for v, c in ranked if c >= share * len(parsed)] or [v for v, _ in ranked[:1] if f == "genres"]
    return format_attributes(out)
