"""Diagnostic: fresh Recall@10 at every answer depth on the *test* subset (depth.py's curve, read-only).

The depth of ``<system>-depth`` is chosen on validation (``scripts/answer_depth.sh``); this prints the test curve
beside it so a reader can see how far the validation choice is from the best test depth. Never choose on it.

    .venv/bin/python scripts/depth_curve.py --processed results/processed/inspired \\
        --predictions results/predictions/smtpo/inspired/inspired/test-subset/seed0.jsonl \\
        --subset workflow/config/subsets/inspired-test-100.txt
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmark.eval.predictions import read_predictions
from benchmark.io import read_jsonl
from benchmark.recommender.depth import recall_curve
from benchmark.recommender.subset import restrict


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--processed", required=True, help="processed dataset directory (test.samples.jsonl)")
    ap.add_argument("--predictions", required=True, nargs="+", help="test-subset predictions (.jsonl or .jsonl.gz)")
    ap.add_argument("--subset", required=True, help="the committed test subset the predictions were made on")
    ap.add_argument("--split", default="test")
    a = ap.parse_args()
    samples = restrict(read_jsonl(Path(a.processed) / f"{a.split}.samples.jsonl", "samples"), a.subset)
    for path in a.predictions:
        curve = recall_curve(samples, read_predictions(path, (s["sample_id"] for s in samples)))
        print(path, " ".join(f"{m}: {v:.3f}" for m, v in curve.items()))


if __name__ == "__main__":
    main()
