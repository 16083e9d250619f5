"""Name -> lazy ``"module:attr"`` registries with near-match suggestions for unknown names."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from typing import Any

from benchmark.errors import BenchmarkError


class UnknownNameError(BenchmarkError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


def unknown_name(kind: str, name: str, known) -> UnknownNameError:
    """The error for an unknown ``name`` among ``known``, with up to three near matches."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return UnknownNameError(f"unknown {kind} {name!r}{hint} (known: {', '.join(known)})")


class Registry:
    """Maps names to ``"package.module:attr"`` strings, imported only when looked up.

    >>> r = Registry("system", {"popularity": "baselines.sanity:PopularitySystem"})
    >>> r.get("populariti")
    Traceback (most recent call last):
    ...
    benchmark.registry.UnknownNameError: unknown system 'populariti'; did you mean 'popularity'? (known: popularity)
    """

    def __init__(self, kind: str, targets: dict[str, str]):
        self.kind = kind
        self._targets = dict(targets)

    def __contains__(self, name: str) -> bool:
        return name in self._targets

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._targets))

    def names(self) -> list[str]:
        return sorted(self._targets)

    def target(self, name: str) -> str:
        if name not in self._targets:
            raise unknown_name(self.kind, name, self._targets)
        return self._targets[name]

    def get(self, name: str) -> Any:
        module, _, attr = self.target(name).partition(":")
        return getattr(importlib.import_module(module), attr)
