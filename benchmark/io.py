"""Atomic, line-numbered file I/O shared by every stage.

Every output is written to a temporary file (``atomic_path``) or directory (``atomic_dir``) in the same directory
and renamed into place, so a crash or a bad input never leaves a half-written output and never clobbers an earlier
good one.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from benchmark.errors import InputError

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; an output should have the mode open() would give it
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty directory ``<path>.partial`` beside ``path``; if the block succeeds, it replaces ``path``.

    For outputs that libraries write as directories (``save_pretrained``, a sentence-transformers model). A
    leftover ``.partial`` from a crashed run is removed first; on failure the new one is removed and an earlier
    ``path`` is left as it was. The old ``path`` is moved aside before the rename (two renames, no copy), so the
    window in which ``path`` is missing is that between two renames.
    """
    path = Path(path)
    tmp, old = path.with_name(path.name + ".partial"), path.with_name(path.name + ".old")
    for stale in (tmp, old):
        shutil.rmtree(stale, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def write_jsonl(path: str | os.PathLike, rows: Iterable[Any]) -> int:
    """Write one JSON object per line; a name ending in ``.gz`` is gzip-compressed reproducibly (no name or
    timestamp in the header, so the same rows give the same bytes)."""
    n = 0
    with atomic_path(path) as tmp:
        if str(path).endswith(".gz"):
            with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                for row in rows:
                    gz.write((json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))
                    n += 1
        else:
            with open(tmp, "w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                    n += 1
    return n


def require_file(path: str | os.PathLike, what: str) -> Path:
    """Return ``path`` if it is a file, else raise an error that says what was expected there."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, f"missing file: expected {what} here")
    return path


def read_json(path: str | os.PathLike, what: str = "a JSON file") -> Any:
    path = require_file(path, what)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(path, f"malformed JSON ({e.msg} at column {e.colno})", line=e.lineno) from None


def iter_jsonl(path: str | os.PathLike, what: str = "a JSON-lines file") -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, object)``; a malformed or truncated line raises an error naming file and line.

    A name ending in ``.gz`` is read through gzip (the released reference predictions are ``.jsonl.gz``); a gzip
    stream that ends early or is corrupt is an error naming the file and the last line read intact.
    """
    path = require_file(path, what)
    gz = path.name.endswith(".gz")
    lineno = 0
    try:
        with (gzip.open(path, "rt", encoding="utf-8") if gz else open(path, encoding="utf-8")) as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    yield lineno, json.loads(line)
                except json.JSONDecodeError as e:
                    hint = " (the file looks truncated)" if not line.endswith("\n") else ""
                    raise InputError(path, f"malformed JSON: {e.msg} at column {e.colno}{hint}",
                                     line=lineno) from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise InputError(path, f"truncated or corrupt gzip file after {lineno} line(s) ({e}); "
                               "download or copy it again") from None
    except UnicodeDecodeError as e:
        hint = " (gzip data in a file not named .gz?)" if not gz and e.object[:2] == b"\x1f\x8b" else ""
        raise InputError(path, f"not UTF-8 text near line {lineno + 1}{hint}") from None


def read_jsonl(path: str | os.PathLike, what: str = "a JSON-lines file") -> list[Any]:
    return [obj for _, obj in iter_jsonl(path, what)]


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def git_blob_sha1(path: str | os.PathLike) -> str:
    """Git's object id of a file (sha1 over ``b"blob <size>\\0" + content``), for pins known only as blob ids."""
    path = Path(path)
    h = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()
