"""Movie titles: split off the year, normalise, and build the unified movie key used across datasets.

The unified key is ``"<normalised title>|<year>"`` (year empty when unknown), e.g.
``movie_key("The Lion King", 1994) == "the lion king|1994"``. Normalisation lower-cases, strips accents,
turns ``&`` into ``and``, drops punctuation and collapses whitespace; it does not drop leading articles
(``"The Forest"`` and ``"Forest"`` are different films often enough that merging them would be wrong);
``bare_title`` does, for the guarded article rules of ``benchmark.data.matching`` and ``benchmark.data.twins``.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse

_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>(?:18|19|20)\d\d)(?: film)?\)\s*$")
_EMPTY_PARENS = re.compile(r"\s*\(\s*\)\s*$")  # INSPIRED has "Akira ()"
_PUNCT = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")
_ARTICLE = re.compile(r"^(?:the|a|an) (?=\S)")


def clean_name(raw: str) -> str:
    """ReDial ``movieName`` -> display name: URL-decoding (``%3F`` -> ``?``) and collapsed spaces."""
    if "%" in raw:
        raw = urllib.parse.unquote(raw)
    return _SPACE.sub(" ", raw).strip()


def split_year(name: str) -> tuple[str, int | None]:
    """``"Police Academy (1984)"`` -> ``("Police Academy", 1984)``; no trailing year -> ``(name, None)``.

    Also accepts INSPIRED's ``"The Woman in Black (2012 film)"`` and drops an empty ``"()"``.
    """
    name = _EMPTY_PARENS.sub("", clean_name(name))
    m = _YEAR.match(name)
    if m:
        return m.group("title").strip(), int(m.group("year"))
    return name, None


def normalise_title(title: str) -> str:
    """``"Amélie & Me!"`` -> ``"amelie and me"``."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().replace("&", " and ")
    text = _PUNCT.sub(" ", text.replace("'", ""))
    return _SPACE.sub(" ", text).strip()


def movie_key(title: str, year: int | None) -> str:
    return f"{normalise_title(title)}|{year if year is not None else ''}"


def display(title: str, year: int | None) -> str:
    return f"{title} ({year})" if year is not None else title


def bare_title(title: str) -> str:
    """Normalised title without a leading article: ``"The Matrix"`` -> ``"matrix"``."""
    return _ARTICLE.sub("", normalise_title(title))
