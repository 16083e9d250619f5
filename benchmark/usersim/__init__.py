"""User simulator: multi-task SFT data (feedback, attributes, target), LoRA SFT, runtime simulator, quality eval."""
