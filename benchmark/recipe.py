"""Training recipes: documented dataclasses filled from YAML files (``workflow/recipes/<stage>/<profile>.yaml``)."""

from __future__ import annotations

import dataclasses
import os

import yaml

from benchmark.errors import BenchmarkError


class Recipe:
    """Mixin for a recipe dataclass: ``from_yaml`` rejects unknown keys by name, ``validate`` checks values."""

    kind = "recipe"  # what the error messages call it

    @classmethod
    def from_yaml(cls, path: str | os.PathLike | None, **overrides):
        """The recipe at ``path`` (None: all defaults) with ``overrides`` that are not None applied on top."""
        values = {}
        if path:
            with open(path, encoding="utf-8") as fh:
                values = yaml.safe_load(fh) or {}
        values.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name for f in dataclasses.fields(cls)}
        if unknown := sorted(set(values) - known):
            raise BenchmarkError(f"{path}: unknown {cls.kind} keys {unknown} (known: {sorted(known)})")
        recipe = cls(**values)
        recipe.validate(path)
        return recipe

    def validate(self, path) -> None:
        """Raise BenchmarkError for values the types alone do not rule out (override in subclasses)."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
