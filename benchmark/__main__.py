import sys

from benchmark.device import pin_cpu_kernels
from benchmark.errors import BenchmarkError

try:  # before anything imports torch: a stage run by hand computes what Snakemake's run computes
    pin_cpu_kernels()
except BenchmarkError as err:  # a bad BENCHMARK_CPU_CAPABILITY: one line, as every other user error
    print(f"error: {err}", file=sys.stderr)
    raise SystemExit(2) from None

from benchmark.cli import main  # noqa: E402

raise SystemExit(main())
