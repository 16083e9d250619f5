"""Stage ``usersim-data``: simulator SFT records from the real dialogues (one record per task per turn).

For every recommender turn that mentions a catalogue item (an evaluation sample of the split):

* ``feedback``: history + the items that turn offers -> the seeker's next turn (skipped when none follows);
* ``attributes``: history -> the attributes of the first target with metadata (skipped when none has any): its
  genres, and its director / cast only where the shown history names them (``none`` otherwise). A name the
  dialogue never gives cannot be inferred from it; training on every name taught the model to invent one, and
  each invented name is a false positive of the attribute score (docs/usersim.md has the measurement);
* ``target``: history -> the name of the first titled target.

Records are chat prompt/completion pairs (TRL's conversational prompt-completion format)::

    {"task": "target", "sample_id": "20001#3", "prompt": [{"role": "system", ...}, {"role": "user", ...}],
     "completion": [{"role": "assistant", "content": "Police Academy (1984)"}]}

    python -m benchmark usersim-data --processed results/processed/redial --out results/usersim/data/redial
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from benchmark.data.bundle import DatasetBundle
from benchmark.io import write_json, write_jsonl
from benchmark.usersim import templates

TASKS = ("feedback", "attributes", "target")


def grounded_attributes(item: dict, turns) -> dict[str, list[str]]:
    """The item's genres, and the director / cast names that occur in the turns' text (case-insensitive)."""
    values = templates.attribute_values(item)
    said = " ".join(t["text"] for t in turns).lower()
    return {f: v if f == "genres" else [n for n in v if n.lower() in said] for f, v in values.items()}


def records_for_sample(sample: dict, dialogue: dict, catalog, max_turns: int = templates.MAX_TURNS) -> list[dict]:
    history = sample["context"]
    targets = [catalog.by_id[t] for t in sample["targets"]]
    out = []

    def add(task: str, prompt: list[dict], answer: str) -> None:
        out.append({"task": task, "sample_id": sample["sample_id"], "prompt": prompt,
                    "completion": [{"role": "assistant", "content": answer}]})

    nxt = sample["turn_index"] + 1
    if nxt < len(dialogue["turns"]) and dialogue["turns"][nxt]["role"] == "seeker":
        add("feedback", templates.feedback_prompt(history, targets, max_turns), dialogue["turns"][nxt]["text"])
    with_meta = [t for t in targets if any(templates.attribute_values(t).values())]
    if with_meta:
        add("attributes", templates.attributes_prompt(history, max_turns),
            templates.format_attributes(grounded_attributes(with_meta[0], history[-max_turns:])))
    titled = [t for t in targets if t.get("has_title", True) and t.get("name")]
    if titled:
        add("target", templates.target_prompt(history, max_turns=max_turns), titled[0]["name"])
    return out


def build_records(bundle: DatasetBundle, split: str, max_turns: int = templates.MAX_TURNS) -> list[dict]:
    dialogues = {d["dialogue_id"]: d for d in bundle.dialogues(split)}
    return [r for s in bundle.samples(split)
            for r in records_for_sample(s, dialogues[s["dialogue_id"]], bundle.catalog, max_turns)]


def main(processed: str | os.PathLike, out: str | os.PathLike, max_turns: int = templates.MAX_TURNS) -> dict:
    bundle, out = DatasetBundle(processed), Path(out)
    counts = {}
    for split in ("train", "valid"):
        records = build_records(bundle, split, max_turns)
        write_jsonl(out / f"{split}.jsonl", records)
        counts[split] = dict(Counter(r["task"] for r in records))
    write_json(out / "stats.json", {"dataset": bundle.name, "max_turns": max_turns, "records": counts})
    return counts
