"""Pieces every TRL training stage shares: the LoRA SFT trainer of a recipe, resumable training, the adapter save.

Used by the simulator SFT (``benchmark/usersim/train.py``), the recommender SFT (``benchmark/recommender/
train_sft.py``) and the recommender GRPO (``benchmark/recommender/grpo.py``)::

    trainer = lora_sft_trainer(model, tokenizer, train_set, cfg, out / "checkpoints", seed, progress)
    result, resumed = train_resumable(trainer, out / "checkpoints")
    save_adapter(trainer.model, tokenizer, out / "adapter")

A recipe passed to ``lora_sft_trainer`` has the fields of ``SimulatorSFTConfig`` / ``RecommenderSFTConfig``
(max_length, batch_size, grad_accum, learning_rate, max_steps, warmup_steps, logging_steps, save_steps, bf16,
gradient_checkpointing, lora_r, lora_alpha, lora_dropout, lora_targets).
"""

from __future__ import annotations

from pathlib import Path

from benchmark.io import atomic_dir


def lora_sft_trainer(model, tokenizer, train_set, cfg, ckpt_dir: Path, seed: int, progress: bool = True):
    """TRL ``SFTTrainer`` with a PEFT LoRA adapter, completion-only loss, seeded, checkpointing to ``ckpt_dir``.

    bf16 and gradient checkpointing come from the recipe explicitly (TRL defaults both on); one checkpoint is
    kept (enough to resume), and the CPU is used unless CUDA is present.
    """
    import torch
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(
        output_dir=str(ckpt_dir), max_length=cfg.max_length, per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum, learning_rate=cfg.learning_rate, max_steps=cfg.max_steps,
        warmup_steps=cfg.warmup_steps, logging_steps=cfg.logging_steps, save_steps=cfg.save_steps,
        save_total_limit=1, seed=seed, data_seed=seed, bf16=cfg.bf16, fp16=False,
        gradient_checkpointing=cfg.gradient_checkpointing, report_to="none", disable_tqdm=not progress,
        use_cpu=not torch.cuda.is_available(), packing=False, completion_only_loss=True,
        dataloader_num_workers=0,
    )
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=cfg.lora_targets, task_type="CAUSAL_LM")
    return SFTTrainer(model=model, args=args, train_dataset=train_set, processing_class=tokenizer, peft_config=lora)


def train_resumable(trainer, ckpt_dir: Path):
    """``trainer.train()``, resuming from the newest checkpoint in ``ckpt_dir`` when one exists.

    Returns (TrainOutput, resumed).
    """
    resumed = any(Path(ckpt_dir).glob("checkpoint-*"))
    return trainer.train(resume_from_checkpoint=True if resumed else None), resumed


def save_adapter(model, tokenizer, path: Path) -> Path:
    """Write the adapter and tokenizer to ``path`` atomically (a crash leaves any earlier adapter intact)."""
    with atomic_dir(path) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return Path(path)
