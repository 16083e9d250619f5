"""Datasets: acquire raw files (download or mirror), parse, and write processed records.

``DATASETS`` maps a dataset name to its ``DatasetSpec`` (module per dataset, imported lazily).
"""

from benchmark.registry import Registry

DATASETS = Registry("dataset", {
    "redial": "benchmark.data.redial:DATASET",
    "inspired": "benchmark.data.inspired:DATASET",
})
