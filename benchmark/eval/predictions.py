"""The public predictions format: how any system, ours or yours, hands rankings to ``evaluate``.

JSON lines, one object per evaluation sample::

    {"sample_id": "20001#1", "ranked_items": ["151656", "94688", ...]}

* ``sample_id``: a ``sample_id`` of ``results/processed/<dataset>/<split>.samples.jsonl``.
* ``ranked_items``: catalogue item ids (``catalog.jsonl`` ``item_id``; strings, integers are accepted and
  converted), best first. Score at most 50 (the largest k); longer lists are fine.
* optional ``raw_text`` (the system's raw output) and ``parse_status`` (``"ok"`` or a failure label), kept for
  reporting parse failures of generative systems; LLM rerankers (``benchmark.recommender``) add
  ``parser_version`` and ``candidate_order`` (the item ids in the order shown as numbers 1..K).

A sample with no line is scored as a miss and counted in ``missing_predictions``; a line for an unknown
sample, a duplicated sample, or a malformed line is an error that names the file and line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from benchmark.errors import InputError
from benchmark.io import iter_jsonl, write_jsonl


def read_predictions(path: str | os.PathLike, sample_ids: Iterable[str] | None = None) -> dict[str, dict]:
    known = set(sample_ids) if sample_ids is not None else None
    out: dict[str, dict] = {}
    for lineno, obj in iter_jsonl(path, "a predictions file (JSON lines: sample_id, ranked_items)"):
        if not isinstance(obj, dict) or "sample_id" not in obj or "ranked_items" not in obj:
            raise InputError(path, "expected an object with keys 'sample_id' and 'ranked_items'", line=lineno)
        sid, items = obj["sample_id"], obj["ranked_items"]
        if not isinstance(sid, str):
            raise InputError(path, f"sample_id must be a string, got {sid!r}", line=lineno)
        if not isinstance(items, list) or not all(isinstance(i, str | int) and not isinstance(i, bool)
                                                  for i in items):
            raise InputError(path, "ranked_items must be a list of item ids (strings)", line=lineno)
        if known is not None and sid not in known:
            raise InputError(path, f"sample_id {sid!r} is not a sample of this split (wrong samples file?)",
                             line=lineno)
        if sid in out:
            raise InputError(path, f"duplicate prediction for sample_id {sid!r}", line=lineno)
        out[sid] = {**obj, "ranked_items": [str(i) for i in items]}
    return out


def write_predictions(path: str | os.PathLike, rows: Iterable[dict]) -> int:
    return write_jsonl(path, rows)
