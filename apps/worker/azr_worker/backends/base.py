"""The interface every backend implements. Generation and training code (generation.py,
training.py) only use these methods, so a backend is a model + a tokenizer + a forward pass."""


class BackendUnavailable(RuntimeError):
    """An optional dependency of a backend is missing."""

    def __init__(self, backend, what):
        super().__init__(f"backend '{backend}' is unavailable: {what}")


class Policy:
    backend = "base"
    name = ""
    model = None            # torch.nn.Module trained by the optimizer
    gen_model = None        # FSDP: a full copy used for generation (see fsdp.py)
    device = None
    dtype = None
    vocab_size = 0
    context_length = 0
    eos_id = 0
    pad_id = 0

    def encode_prompt(self, text):
        """Token ids a completion is conditioned on (with BOS where the model uses one)."""
        raise NotImplementedError

    def encode(self, text):
        raise NotImplementedError

    def decode(self, ids):
        raise NotImplementedError

    def forward(self, ids, mask, pos, cache):
        """One incremental step for generation: (logits [B, T, V], new cache)."""
        raise NotImplementedError

    def logits(self, module, ids, mask):
        """Full-sequence logits for training, through `module` (the model or its DDP wrapper)."""
        raise NotImplementedError

    def select_cache(self, cache, index):
        """The cache restricted to batch rows `index`, or None if the backend cannot."""
        return None

    def fsdp_units(self):
        """Submodules sharded as separate FSDP units (the transformer blocks)."""
        return []

    def save_weights(self, directory, state=None):
        """Writes the weights (`state`, or the model's own state dict) into `directory`."""
        raise NotImplementedError

    def read_weights(self, directory):
        """The state dict saved by save_weights."""
        raise NotImplementedError

    def load_weights(self, directory):
        self.model.load_state_dict(self.read_weights(directory))

    # Generation engines other than the trainer's forward (vLLM) override these.
    generate_override = None

    def after_update(self):
        """Called after every optimizer step (vLLM: push the new weights to the engine)."""
