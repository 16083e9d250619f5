"""SMTPO reproducibility benchmark: data, systems, evaluation and tables for conversational recommendation.

Run a stage with ``python -m benchmark <stage> --help``; the whole pipeline with ``snakemake``.
"""

__version__ = "0.1.0"
