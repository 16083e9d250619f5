"""Short progress lines for the console while a stage's detailed output goes to its log.

A long training stage calls ``report("sasrec epoch 3/30: valid fresh R@10 0.1234")``, which writes one line
``progress: ...`` to stderr. The Snakemake rules of the long stages send everything to the log *and* through this
module's filter, which passes only those lines (and a one-line summary of each Hugging Face ``Trainer`` log dict,
so the simulator and recommender trainings show progress without code of their own) to the console::

    python -m benchmark train-system sasrec ... 2>&1 | tee results/logs/x.log | python -m benchmark.progress

>>> summarise("{'loss': '2.3456', 'grad_norm': '1.2', 'learning_rate': '5e-05', 'epoch': '0.5'}")
'loss 2.3456, epoch 0.5'
>>> summarise("Loading weights: 100%") is None
True
"""

from __future__ import annotations

import ast
import sys

PREFIX = "progress: "
# the Trainer log keys worth a console line (the rest stay in the log)
KEYS = ("loss", "reward", "train_loss", "epoch")


def report(message: str) -> None:
    """One progress line on stderr (flushed: it must reach the console while the stage runs)."""
    print(PREFIX + message, file=sys.stderr, flush=True)


def summarise(segment: str) -> str | None:
    """``key value`` pairs of a Trainer log dict (``{'loss': ..., 'epoch': ...}``), or None for any other text."""
    segment = segment.strip()
    if not (segment.startswith("{") and segment.endswith("}") and "'epoch'" in segment):
        return None
    try:
        logs = ast.literal_eval(segment)
    except (ValueError, SyntaxError):
        return None
    parts = [f"{k} {logs[k]}" for k in KEYS if k in logs]
    return ", ".join(parts) if parts else None


def main(stream=sys.stdin, out=sys.stderr) -> int:
    """Copy the progress lines of ``stream`` to ``out``; read to the end (the pipe's writer must never block)."""
    for line in stream:
        for segment in line.split("\r"):  # tqdm redraws its bar with carriage returns
            if segment.startswith(PREFIX):
                print(segment.rstrip("\n"), file=out, flush=True)
            elif (summary := summarise(segment)) is not None:
                print(PREFIX + summary, file=out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
