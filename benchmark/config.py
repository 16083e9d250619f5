"""Load and check ``workflow/config/config.yaml``: JSON-schema validation plus cross-key checks.

The Snakefile calls ``check_config`` first thing, so a typo fails before any job starts, with the key path.
An overlay (``--configfile workflow/config/baselines.yaml``) is merged over ``config.yaml`` the way Snakemake does
(nested mappings merged key by key, anything else replaced) before it is checked:

    python -m benchmark check-config --config workflow/config/baselines.yaml
"""

from __future__ import annotations

import os
from pathlib import Path

import jsonschema
import yaml

from benchmark.errors import BenchmarkError

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "workflow" / "config" / "config.yaml"
SCHEMA = ROOT / "workflow" / "config" / "schema.yaml"


class ConfigError(BenchmarkError):
    pass


def merge_config(base: dict, overlay: dict) -> dict:
    """``overlay`` over ``base`` as Snakemake merges ``--configfile`` over ``configfile:`` (a new dict).

    >>> merge_config({"a": {"x": 1, "y": 2}, "b": [1]}, {"a": {"y": 3}, "b": [2]})
    {'a': {'x': 1, 'y': 3}, 'b': [2]}
    """
    out = dict(base)
    for key, value in overlay.items():
        out[key] = merge_config(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) \
            else value
    return out


def read_config(path: str | os.PathLike) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            config = yaml.safe_load(fh)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config file ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: expected a mapping of config keys, got {type(config).__name__}")
    return config


def load_config(path: str | os.PathLike = CONFIG, *overlays: str | os.PathLike, base: bool = True) -> dict:
    """Read ``path`` (and further ``overlays``), merged in order over ``config.yaml`` unless ``base=False``."""
    config = read_config(CONFIG) if base else {}
    for p in (path, *overlays):
        config = merge_config(config, read_config(p))
    check_config(config)
    return config


def check_config(config: dict, schema_path: str | os.PathLike = SCHEMA) -> dict:
    with open(schema_path, encoding="utf-8") as fh:
        schema = yaml.safe_load(fh)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(config), key=lambda e: list(e.path))
    if errors:
        lines = [f"  {'/'.join(map(str, e.path)) or '<top>'}: {e.message}" for e in errors]
        raise ConfigError("invalid configuration:\n" + "\n".join(lines))
    from benchmark.systems import SYSTEMS

    for name in config["run"]:
        if name not in config["systems"]:
            raise ConfigError(f"run: {name!r} is not defined under systems ({', '.join(config['systems'])})")
    for name, entry in config["systems"].items():
        SYSTEMS.target(entry.get("system", name))  # unknown implementation -> error with near matches
        uses = entry.get("uses", "")
        if uses.startswith("retriever/") and uses.split("/", 1)[1] not in config["retriever"]["variants"]:
            raise ConfigError(f"systems/{name}/uses: no retriever variant {uses.split('/', 1)[1]!r} "
                              f"(defined: {', '.join(config['retriever']['variants'])})")
    variants = config["retriever"]["variants"]
    for name, v in variants.items():
        if "init" in v and (v["init"] not in variants or v["init"] == name or "init" in variants[v["init"]]):
            raise ConfigError(f"retriever/variants/{name}/init: {v['init']!r} must be another variant without init")
    for name in config["tables"].get("retrieval", {}).get("systems", []):
        if name not in config["run"]:
            raise ConfigError(f"tables/retrieval/systems: {name!r} is not in run")
    swept = [n for names in config.get("seed_sweep", {}).get("systems", {}).values() for n in names]
    for name in config["tables"].get("transfer", {}).get("systems", []) + swept:
        if name not in config["systems"]:
            raise ConfigError(f"tables/transfer or seed_sweep: {name!r} is not defined under systems")
    for pair in config["tables"].get("comparisons", {}).get("pairs", []):
        for name in pair:
            if name not in config["run"]:
                raise ConfigError(f"tables/comparisons/pairs: {name!r} is not in run (its predictions are needed)")
    biggest = max(config["eval"]["ks"])
    if config["eval"]["topn"] < biggest:
        raise ConfigError(f"eval/topn ({config['eval']['topn']}) must be >= the largest k ({biggest})")
    shown = [m for key in ("retrieval", "transfer", "comparisons")
             for m in config["tables"].get(key, {}).get("metrics", [])]
    for metric in config["tables"]["metrics"] + shown:
        if int(metric.split("@")[1]) not in config["eval"]["ks"]:
            raise ConfigError(f"tables/metrics: {metric} uses a k not in eval/ks {config['eval']['ks']}")
    return config


def portable_path(path: str | os.PathLike, base: str | os.PathLike) -> str:
    """``path`` as stored in an artefact written to directory ``base``: relative to ``base`` when both lie in one
    tree (the results root), so a moved or archived ``results/`` still resolves; absolute otherwise.

    >>> portable_path("/r/processed/redial", "/r/models/retriever/dualview/redial/seed0")
    '../../../../../processed/redial'
    >>> portable_path("/elsewhere/x", "/r/models")
    '/elsewhere/x'
    """
    target, base = Path(os.path.abspath(path)), Path(os.path.abspath(base))
    if target.parts[:2] != base.parts[:2]:  # no common top-level folder: outside the results tree
        return str(target)
    return os.path.relpath(target, base)


def stored_path(stored: str | os.PathLike, base: str | os.PathLike) -> Path:
    """Inverse of ``portable_path``: a stored path read back beside ``base`` (absolute paths of older artefacts
    are returned unchanged)."""
    path = Path(stored)
    return path if path.is_absolute() else Path(os.path.normpath(Path(os.path.abspath(base)) / path))


def system_entry(config: dict, name: str) -> tuple[str, dict]:
    """(registered implementation, constructor params) of a named system configuration."""
    entry = config["systems"][name]
    return entry.get("system", name), entry.get("params", {})
