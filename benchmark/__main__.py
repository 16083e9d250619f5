from benchmark.device import pin_cpu_kernels

pin_cpu_kernels()  # before anything imports torch: a stage run by hand computes what Snakemake's run computes

from benchmark.cli import main  # noqa: E402

raise SystemExit(main())
