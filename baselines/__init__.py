"""The comparison systems of the benchmark, one sub-package per family (see ``baselines/README.md``).

The harness never imports this package directly: ``benchmark.systems.SYSTEMS`` names each system lazily
(``"baselines.kbrd:KBRDSystem"``), so ``benchmark/`` stays the harness plus SMTPO.
"""
