"""One rule for choosing where a model runs, and how the choice is described in provenance.

``resolve_device("auto")`` is CUDA when present, else the CPU; ``"cpu"``, ``"cuda"`` or ``"cuda:1"`` force one.
The environment variable ``BENCHMARK_DEVICE`` overrides ``"auto"`` (so a Snakemake profile can pin a device
without touching recipes). On CUDA the stages compute in bfloat16; on the CPU they keep their recipe's dtype,
so CPU results (and the committed reference) do not depend on this module.

>>> resolve_device("cpu")
'cpu'
>>> describe("cpu").startswith("cpu:")
True
"""

from __future__ import annotations

import os
import platform
import sys
import warnings

from benchmark.errors import BenchmarkError

ENV = "BENCHMARK_DEVICE"
# Instruction set of torch's and MKL's CPU kernels for every `python -m benchmark` stage; the same value as
# `cpu_capability` in workflow/config/config.yaml (a test keeps them equal). The Snakefile exports the config's value
# here, so a stage run by hand computes what the same stage run by Snakemake computes.
PIN_ENV = "BENCHMARK_CPU_CAPABILITY"
DEFAULT_CPU_CAPABILITY = "avx2"


def resolve_device(requested: str | None = "auto") -> str:
    """``"auto"``/``None`` -> ``$BENCHMARK_DEVICE`` or ``"cuda"`` when available, else ``"cpu"``."""
    import torch

    requested = (requested or "auto").strip().lower()
    if requested == "auto":
        requested = os.environ.get(ENV, "").strip().lower() or ("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise BenchmarkError(f"device {requested!r} requested but CUDA is not available "
                                 f"(torch {torch.__version__}); use 'auto' or 'cpu'")
        return requested
    if requested != "cpu":
        raise BenchmarkError(f"unknown device {requested!r}: expected 'auto', 'cpu', 'cuda' or 'cuda:<index>'")
    return requested


def compute_dtype(device: str):
    """bfloat16 on CUDA (every supported GPU of the gpu profile has it), float32 on the CPU."""
    import torch

    return torch.bfloat16 if str(device).startswith("cuda") else torch.float32


def cpu_capability() -> str:
    """The instruction set torch's CPU kernels use (``avx2``, ``avx512``, ...): it can change trained numbers
    (an AVX-512 machine moved INSPIRED dualview fresh R@10 from 0.195 to 0.168 through a near-tied epoch choice)."""
    try:
        import torch

        return str(torch.backends.cpu.get_cpu_capability()).lower()
    except (ImportError, AttributeError):
        return "unknown"


def pin_cpu_kernels(capability: str | None = None) -> str | None:
    """Pin torch's (``ATEN_CPU_CAPABILITY``) and MKL's (``MKL_ENABLE_INSTRUCTIONS``) CPU kernels before torch is
    imported; returns the pinned instruction set, or None when nothing was pinned.

    ``capability``: ``avx2``, ``avx512`` or ``""`` (torch's own choice); default ``$BENCHMARK_CPU_CAPABILITY``, else
    ``avx2``. A variable the user already set wins; non-x86 hosts are left alone. Why: greedy LLM decoding moves with
    the instruction set (the INSPIRED ``smtpo`` test answers of an AVX2-pinned run and an unpinned run on the same
    AVX-512 host agree on 29 of 100), and before this every hand-run stage was unpinned while Snakemake's were pinned.

    >>> pin_cpu_kernels("")  # torch's choice: nothing is set
    """
    cap = (os.environ.get(PIN_ENV, DEFAULT_CPU_CAPABILITY) if capability is None else capability).strip().lower()
    if not cap:
        return None
    if cap not in ("avx2", "avx512"):
        raise BenchmarkError(f"{PIN_ENV}={cap!r}: expected avx2, avx512 or an empty value (torch's choice)")
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    if "torch" in sys.modules and "ATEN_CPU_CAPABILITY" not in os.environ:
        warnings.warn(f"pin_cpu_kernels({cap!r}) called after torch was imported: torch keeps its own choice",
                      stacklevel=2)
        return None
    os.environ.setdefault("ATEN_CPU_CAPABILITY", cap)
    os.environ.setdefault("MKL_ENABLE_INSTRUCTIONS", cap.upper())
    return os.environ["ATEN_CPU_CAPABILITY"]


def describe(device: str | None = None) -> str:
    """Provenance line: ``cuda:<GPU name>`` or ``cpu:<machine>:<torch CPU capability>``."""
    try:
        import torch

        if (device or "").startswith("cuda") or (device is None and torch.cuda.is_available()):
            index = int(device.split(":")[1]) if device and ":" in device else 0
            return f"cuda:{torch.cuda.get_device_name(index)}"
    except ImportError:
        pass
    return f"cpu:{platform.machine()}:{cpu_capability()}"
