"""Reporting: metrics JSONs -> long TSV -> Markdown/LaTeX tables with protocol cards; reference comparison."""
