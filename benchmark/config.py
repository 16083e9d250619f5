"""Load and check ``workflow/config/config.yaml``: JSON-schema validation plus cross-key checks.

The Snakefile calls ``check_config`` first thing, so a typo fails before any job starts, with the key path.
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


def load_config(path: str | os.PathLike = CONFIG) -> dict:
    with open(path, encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
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
    biggest = max(config["eval"]["ks"])
    if config["eval"]["topn"] < biggest:
        raise ConfigError(f"eval/topn ({config['eval']['topn']}) must be >= the largest k ({biggest})")
    for metric in config["tables"]["metrics"] + config["tables"].get("retrieval", {}).get("metrics", []):
        if int(metric.split("@")[1]) not in config["eval"]["ks"]:
            raise ConfigError(f"tables/metrics: {metric} uses a k not in eval/ks {config['eval']['ks']}")
    return config


def system_entry(config: dict, name: str) -> tuple[str, dict]:
    """(registered implementation, constructor params) of a named system configuration."""
    entry = config["systems"][name]
    return entry.get("system", name), entry.get("params", {})
