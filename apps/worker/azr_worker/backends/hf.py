"""`hf`: a Hugging Face `transformers` causal LM trained in PyTorch, generating with the same
sampling loop as `tiny` (generation.py) through the model's KV cache.

Weights are held in the requested dtype (bf16 on GPU: pure-bf16 AdamW, the usual one-GPU setup;
float32 for exactness). Models load only from local directories under the data root (no hub
access), and `trust_remote_code` only when the worker's administrator allows it."""
import os

import torch

from .base import BackendUnavailable, Policy

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def _transformers():
    try:
        import transformers
    except ImportError as e:
        raise BackendUnavailable("hf", f"the Python package 'transformers' is not installed ({e}); "
                                       "install it (pip install transformers) or use the tiny backend") from e
    return transformers


class HFPolicy(Policy):
    backend = "hf"

    @classmethod
    def create(cls, spec, device, allow_remote_code):
        tf = _transformers()
        path = spec["modelPath"]
        if not os.path.isdir(path):
            raise BackendUnavailable("hf", f"model directory {spec['model']!r} not found under the data root")
        remote = bool(spec.get("trustRemoteCode")) and allow_remote_code
        p = cls()
        p.name = spec["model"]
        p.device = torch.device(device)
        p.dtype = DTYPES[spec["dtype"]]
        torch.manual_seed(spec["seed"])
        p.tokenizer = tf.AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=remote)
        major, minor = (int(x) for x in tf.__version__.split(".")[:2])
        dtype_arg = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"  # renamed in transformers 4.56
        p.model = tf.AutoModelForCausalLM.from_pretrained(path, local_files_only=True, trust_remote_code=remote,
                                                          **{dtype_arg: p.dtype}).to(p.device)
        if spec.get("gradientCheckpointing"):
            p.model.gradient_checkpointing_enable()
        cfg = p.model.config
        p.vocab_size = cfg.vocab_size
        p.context_length = getattr(cfg, "max_position_embeddings", None) or 4096
        p.eos_id = p.tokenizer.eos_token_id if p.tokenizer.eos_token_id is not None else cfg.eos_token_id
        p.pad_id = p.tokenizer.pad_token_id if p.tokenizer.pad_token_id is not None else p.eos_id
        return p

    def encode_prompt(self, text):
        ids = self.tokenizer(text, add_special_tokens=True)["input_ids"]
        if not ids:  # an empty prompt still needs one token to condition on
            bos = self.tokenizer.bos_token_id
            ids = [bos if bos is not None else self.eos_id]
        return ids

    def encode(self, text):
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def decode(self, ids):
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def forward(self, ids, mask, pos, cache):
        model = self.gen_model or self.model
        out = model(input_ids=ids, attention_mask=mask, position_ids=pos, past_key_values=cache, use_cache=True)
        return out.logits, out.past_key_values

    def logits(self, module, ids, mask):
        pos = (mask.long().cumsum(-1) - 1).clamp(min=0)
        return module(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=False).logits.float()

    def select_cache(self, cache, index):
        if hasattr(cache, "batch_select_indices"):  # transformers' DynamicCache (in place)
            cache.batch_select_indices(index)
            return cache
        if isinstance(cache, tuple):  # legacy tuple-of-tuples cache
            return tuple(tuple(t.index_select(0, index) for t in layer) for layer in cache)
        return None

    def fsdp_units(self):
        inner = getattr(self.model, "model", None)
        return list(getattr(inner, "layers", []))

    def save_weights(self, directory, state=None):
        target = os.path.join(directory, "model")
        model = self.gen_model or self.model  # an unsharded module to call save_pretrained on
        model.save_pretrained(target, safe_serialization=True, state_dict=state if state is not None else self.model.state_dict())
        self.tokenizer.save_pretrained(target)

    def read_weights(self, directory):
        target = os.path.join(directory, "model")
        try:
            from safetensors.torch import load_file
        except ImportError as e:
            raise BackendUnavailable("hf", "the Python package 'safetensors' is needed to restore checkpoints") from e
        state = {}
        for name in sorted(os.listdir(target)):
            if name.endswith(".safetensors"):
                state.update(load_file(os.path.join(target, name), device=str(self.device)))
        # tied embeddings are saved once (under the input embedding's name)
        if getattr(self.model.config, "tie_word_embeddings", False):
            embed = self.model.get_input_embeddings().weight
            embed_key = next((n for n, p in self.model.named_parameters() if p is embed), None)
            for key in self.model.state_dict():
                if key not in state and "lm_head" in key and embed_key in state:
                    state[key] = state[embed_key]
        expected = set(self.model.state_dict())
        if set(state) != expected:
            raise RuntimeError(f"checkpoint does not match the model: missing {sorted(expected - set(state))[:5]}, "
                               f"unexpected {sorted(set(state) - expected)[:5]}")
        return state
