"""Stage ``guard-audit``: how often does the leakage guard fire on the prompts a simulator would be given?

No model is run: for every test sample of a processed dataset the three simulator prompts are built exactly as
``UserSimulator`` builds them (feedback with the sample's targets as the offered items, attributes, target) and
scanned with the sample's titled targets held out (as the simulator's ``_guarded`` does). Each firing is written
with its sample, task, item and matched text, and whether the target is fresh (not mentioned in the context).
``in_history_skips`` counts held-out targets the real history already has (repeats under the ``all`` protocol),
which the guard skips; ``exempt_turn_matches`` lists held-out names found inside the real turns' text (exempt by
span: the real seeker saw those turns).

    python -m benchmark guard-audit --processed results/processed/redial --out results/usersim/guard/redial.json
"""

from __future__ import annotations

import time
from collections import Counter

from benchmark.data.bundle import DatasetBundle
from benchmark.io import write_json
from benchmark.provenance import provenance
from benchmark.usersim import guard, templates


def audit_samples(samples: list[dict], catalog, max_turns: int = templates.MAX_TURNS) -> dict:
    firings, exempt, prompts, skips = [], [], 0, 0
    for s in samples:
        targets = [catalog.by_id[t] for t in s["targets"]]
        held = [t for t in targets if t["has_title"]]
        history = s["context"]
        skips += sum(guard.in_history(history, t) for t in held)
        built = {"feedback": templates.feedback_prompt(history, targets, max_turns),
                 "attributes": templates.attributes_prompt(history, max_turns),
                 "target": templates.target_prompt(history, max_turns=max_turns)}
        for task, messages in built.items():
            prompts += 1
            text = messages[-1]["content"].partition(templates.OFFERED_MARKER)[0]
            for f in guard.scan(text, held, history, history[-max_turns:]):
                firings.append({"sample_id": s["sample_id"], "task": task, **f.to_dict(),
                                "fresh": f.item_id not in s["context_items"]})
            if task == "attributes":  # matches inside the real turns (exempt by span), once per sample
                exempt.extend({"sample_id": s["sample_id"], "item_id": t["item_id"], "name": t["name"],
                               "matched": text[a:b]} for t in held if not guard.in_history(history, t)
                              for a, b in guard.find_mentions(text, t))
    return {"samples": len(samples), "prompts": prompts, "firings": len(firings),
            "samples_with_firing": len({f["sample_id"] for f in firings}),
            "by_where": dict(Counter(f["where"] for f in firings)), "in_history_skips": skips,
            "fresh_target_firings": sum(f["fresh"] for f in firings), "events": firings,
            "exempt_turn_matches": exempt}


def main(processed, out, split: str = "test", max_turns: int = templates.MAX_TURNS) -> dict:
    started = time.time()
    bundle = DatasetBundle(processed)
    result = {"dataset": bundle.name, "split": split, "max_turns": max_turns,
              **audit_samples(bundle.samples(split), bundle.catalog, max_turns)}
    result["wall_seconds"] = time.time() - started
    result["provenance"] = provenance(inputs={"samples": bundle.dir / f"{split}.samples.jsonl"}, seed=0)
    write_json(out, result)
    return result
