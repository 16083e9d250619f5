"""Atomic, resumable, checksum-verified downloads over http(s):// and file:// URLs.

The bytes go to ``<dest>.part``; an interrupted HTTP download resumes from there with a ``Range`` request.
Only a file whose checksum matches the pin is renamed onto ``dest``; a mismatch deletes the partial file
and raises, so a corrupted download never looks like a finished one.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from benchmark.errors import BenchmarkError
from benchmark.io import git_blob_sha1, sha256_file

CHUNK = 1 << 16


class DownloadError(BenchmarkError):
    pass


def verify(path: Path, sha256: str | None, git_blob: str | None) -> None:
    """Raise DownloadError unless ``path`` matches whichever pin is given (no pin: accept)."""
    if sha256 is not None and (actual := sha256_file(path)) != sha256:
        raise DownloadError(f"{path}: sha256 {actual} does not match the pinned {sha256}")
    if git_blob is not None and (actual := git_blob_sha1(path)) != git_blob:
        raise DownloadError(f"{path}: git blob id {actual} does not match the pinned {git_blob}")


def fetch(url: str, dest: str | os.PathLike, sha256: str | None = None, git_blob: str | None = None,
          timeout: float = 60.0, progress: bool = True) -> Path:
    """Download ``url`` to ``dest`` (skipped when ``dest`` already verifies); returns ``dest``."""
    dest = Path(dest)
    if dest.is_file():
        try:
            verify(dest, sha256, git_blob)
            return dest
        except DownloadError:
            dest.unlink()  # a stale or corrupted earlier download: fetch again
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            status = getattr(resp, "status", None)
            if offset and status != 206:  # server ignored the Range header (or file://): start over
                offset = 0
            total = resp.headers.get("Content-Length")
            total = int(total) + offset if total is not None else None
            mode = "ab" if offset else "wb"
            with open(part, mode) as fh, tqdm(total=total, initial=offset, unit="B", unit_scale=True,
                                              desc=dest.name, disable=not progress) as bar:
                while block := resp.read(CHUNK):
                    fh.write(block)
                    bar.update(len(block))
    except (urllib.error.URLError, OSError) as e:
        raise DownloadError(f"could not download {url} -> {dest}: {e} (the partial file {part} is kept; "
                            "run again to resume, or point the dataset's mirror at a local copy)") from None
    try:
        verify(part, sha256, git_blob)
    except DownloadError as e:
        part.unlink()
        raise DownloadError(f"download of {url} is corrupted: {e}") from None
    os.replace(part, dest)
    return dest


def extract_members(archive: Path, members: dict[str, str], out_dir: Path) -> None:
    """Extract selected zip members (by base name, wherever they sit in the archive) atomically into out_dir."""
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        by_base = {Path(n).name: n for n in zf.namelist() if not n.endswith("/")}
        for member, rel in members.items():
            if member not in by_base:
                raise DownloadError(f"{archive}: archive has no member {member!r} (has: {sorted(by_base)})")
            target = out_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".part")
            with zf.open(by_base[member]) as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(tmp, target)
