"""Pinned official resources: where each raw file comes from and the checksum of the official bytes.

A pin carries the sha256 of the official file where it is known, and otherwise the git blob id recorded
in the public repository (``git hash-object``), which identifies the bytes just as well. Hashes of known
*reconstructions* (the partial mirror files described in ``../shared/datasets/*/mirror/MIRROR.md``) are
listed too, so the warning for them can say what the file is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from benchmark.io import git_blob_sha1, sha256_file


@dataclass(frozen=True)
class RawFile:
    """One file of a dataset's official layout (``relpath`` relative to the raw/mirror directory)."""

    relpath: str
    what: str
    sha256: str | None = None
    git_blob: str | None = None
    known_reconstructions: dict[str, str] = field(default_factory=dict)  # sha256 -> description

    def check(self, path: Path) -> dict:
        """Hash ``path`` and compare with the pin; returns a provenance record (never raises)."""
        actual = sha256_file(path)
        record = {"file": self.relpath, "sha256": actual, "expected_sha256": self.sha256,
                  "expected_git_blob": self.git_blob}
        if self.sha256 is not None:
            record["official"] = actual == self.sha256
        else:
            blob = git_blob_sha1(path)
            record["git_blob"] = blob
            record["official"] = blob == self.git_blob
        record["note"] = self.known_reconstructions.get(actual, "")
        return record


@dataclass(frozen=True)
class Download:
    """An archive or file to fetch; ``members`` maps archive member names to raw relpaths (None: not an archive)."""

    url: str
    filename: str
    sha256: str | None = None
    git_blob: str | None = None
    members: dict[str, str] | None = None


REDIAL_FILES = (
    RawFile("train_data.jsonl", "ReDial train dialogues (redial_dataset.zip member)",
            git_blob="bb882d7e398062df7b7e08e1261e05cf75f3268c",
            known_reconstructions={
                "358f3c9787670a81861ac27dfee4e8ca5f55c0c2b13d9d3a8600c060d926e60f":
                    "known partial reconstruction: 2,270 of 10,006 train dialogues (see the mirror's MIRROR.md)"}),
    RawFile("test_data.jsonl", "ReDial test dialogues (redial_dataset.zip member)",
            sha256="d7781750787d104ac005e829cc7e6277d25b14644a223b0c2445aaaded6b19ac"),
    RawFile("movies_with_mentions.csv", "ReDial movie list (redial_dataset.zip member)",
            sha256="0d408daa474ac95b959a739a261dddd997dd800f5ea585da15a434a26187dbb0"),
    RawFile("id2info.json", "ReDial movie metadata published by iEvaLM-CRS",
            sha256="7bdfe9a9c7f1b4d59aa9a5aeba0029071fd5a7232b61c8257212a335ffe424f7"),
)

# The zip's own sha256 is not recorded anywhere we can read offline; its git blob id in ReDialData/website
# (branch ``data``) pins the bytes. The members' pins above are checked after extraction as well.
REDIAL_DOWNLOADS = (
    Download("https://github.com/ReDialData/website/raw/data/redial_dataset.zip", "redial_dataset.zip",
             git_blob="ea92d9c739ea95537fa6a193ae863ac86df62f63",
             members={"train_data.jsonl": "train_data.jsonl", "test_data.jsonl": "test_data.jsonl",
                      "movies_with_mentions.csv": "movies_with_mentions.csv"}),
    Download("https://raw.githubusercontent.com/RUCAIBox/iEvaLM-CRS/main/data/redial/id2info.json",
             "id2info.json", sha256="7bdfe9a9c7f1b4d59aa9a5aeba0029071fd5a7232b61c8257212a335ffe424f7"),
)

_INSPIRED_URL = "https://raw.githubusercontent.com/sweetpeach/Inspired/master/data/dialog_data/{}.tsv"

INSPIRED_FILES = (
    RawFile("dialog_data/train.tsv", "INSPIRED train dialogues",
            git_blob="e6044150da12d630d9cd5d40ca2ec36c498f20a6",
            known_reconstructions={
                "a3235dbe9a16934ad89ae660a3bd8d0c845161dce4fa27bd59c9c4340fa76a00":
                    "known reconstruction: derived text, synthetic ids, ~half of the movie mentions untitled "
                    "(see the mirror's MIRROR.md)"}),
    RawFile("dialog_data/dev.tsv", "INSPIRED dev dialogues",
            sha256="15a955be002222ba9e95f886802e06a91fb5e457f8a25deae3e7908d58faa947"),
    RawFile("dialog_data/test.tsv", "INSPIRED test dialogues",
            sha256="a10f63ff26045158460730d4829ffba74bee86fb744d9f48c1c1c511ef609993"),
)

INSPIRED_DOWNLOADS = (
    Download(_INSPIRED_URL.format("train"), "dialog_data/train.tsv",
             git_blob="e6044150da12d630d9cd5d40ca2ec36c498f20a6"),
    Download(_INSPIRED_URL.format("dev"), "dialog_data/dev.tsv",
             sha256="15a955be002222ba9e95f886802e06a91fb5e457f8a25deae3e7908d58faa947"),
    Download(_INSPIRED_URL.format("test"), "dialog_data/test.tsv",
             sha256="a10f63ff26045158460730d4829ffba74bee86fb744d9f48c1c1c511ef609993"),
)
