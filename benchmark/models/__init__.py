"""Base models as pipeline inputs: the SmolLM2 GGUF converted to safetensors, the MiniLM sentence embedder."""
