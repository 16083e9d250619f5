"""Stage ``acquire``: put a dataset's official raw files under ``results/raw/<dataset>/`` with a manifest.

The files come from a **mirror directory** in the official layout when one is configured (environment
variable ``BENCHMARK_MIRROR_<DATASET>`` wins over the config key ``datasets.<name>.mirror``), else from the
pinned official URLs. Every file is hashed; a file that is not the official one is accepted with a loud
warning naming the file and both hashes, and the hash is carried into ``manifest.json`` (and from there into
every result's provenance).

    python -m benchmark acquire redial --mirror ../shared/datasets/redial/mirror
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from benchmark.data import DATASETS
from benchmark.data.download import extract_members, fetch
from benchmark.data.spec import DatasetSpec
from benchmark.io import atomic_path, require_file, write_json


def mirror_for(name: str, configured: str | os.PathLike | None) -> Path | None:
    env = os.environ.get(f"BENCHMARK_MIRROR_{name.upper()}")
    chosen = env if env else configured
    return Path(chosen) if chosen else None


def warn(message: str) -> None:
    bar = "!" * 100
    print(f"\n{bar}\n!! WARNING: {message}\n{bar}\n", file=sys.stderr, flush=True)


def _copy(src: Path, dst: Path) -> None:
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)


def acquire(name: str, out_dir: str | os.PathLike, mirror: str | os.PathLike | None = None,
            download_dir: str | os.PathLike | None = None, progress: bool = True,
            downloads: tuple | None = None) -> dict:
    """Fill ``out_dir`` with the dataset's raw files; ``downloads`` overrides the pinned URLs (tests, proxies)."""
    spec: DatasetSpec = DATASETS.get(name)
    out = Path(out_dir)
    if mirror is not None:
        mirror = Path(mirror)
        if not mirror.is_dir():
            from benchmark.errors import InputError

            raise InputError(mirror, f"mirror directory for {name} does not exist (expected the official layout: "
                                     f"{', '.join(f.relpath for f in spec.files)})")
        for f in spec.files:
            _copy(require_file(mirror / f.relpath, f"{f.what} ({f.relpath} of the official layout)"), out / f.relpath)
        source = {"kind": "mirror", "path": str(mirror.resolve())}
    else:
        dl_dir = Path(download_dir) if download_dir else out.parent.parent / "downloads" / name
        downloads = spec.downloads if downloads is None else downloads
        for d in downloads:
            path = fetch(d.url, dl_dir / d.filename, sha256=d.sha256, git_blob=d.git_blob, progress=progress)
            if d.members:
                extract_members(path, d.members, out)
            else:
                _copy(path, out / d.filename)
        source = {"kind": "download", "urls": [d.url for d in downloads]}
    records, warnings = [], []
    for f in spec.files:
        rec = f.check(out / f.relpath)
        records.append(rec)
        if not rec["official"]:
            expected = f.sha256 and f"sha256 {f.sha256}" or f"git blob {f.git_blob}"
            msg = (f"{name}/{f.relpath} is NOT the official file: it has sha256 {rec['sha256']}, the official "
                   f"file has {expected}. {rec['note'] or 'Unknown variant.'} Results built on it are marked.")
            warnings.append(msg)
            warn(msg)
    manifest = {"dataset": name, "source": source, "files": records, "warnings": warnings,
                "all_official": not warnings}
    write_json(out / "manifest.json", manifest)
    return manifest
