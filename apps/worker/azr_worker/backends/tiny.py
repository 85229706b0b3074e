"""`tiny`: a byte-level causal transformer in plain PyTorch (nanoGPT-style), for CPU tests,
demos and warming up small policies. Vocabulary: the 256 byte values, BOS (256), EOS (257)."""
import contextlib
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from .base import Policy

BOS, EOS, VOCAB = 256, 257, 258


class Block(nn.Module):
    def __init__(self, d_model, n_head):
        super().__init__()
        self.n_head = n_head
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x, bias, cache=None):
        """cache: None (training: no cache kept) or [k_buf, v_buf, length], updated in place."""
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if cache is not None:
            n = cache[2]
            cache[0], cache[1] = _append(cache[0], n, k), _append(cache[1], n, v)
            cache[2] = n + T
            k, v = cache[0][:, :, :n + T], cache[1][:, :, :n + T]
        if hasattr(F, "scaled_dot_product_attention"):  # torch >= 2.0: fused kernels
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        else:
            y = F.softmax((q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1)) + bias, dim=-1) @ v
        x = x + self.proj(y.transpose(1, 2).reshape(B, T, C))
        return x + self.mlp(self.ln2(x))


def _append(buf, n, new):
    """Writes `new` [B, H, T, D] at position n of a preallocated buffer, growing it by doubling
    (so a generation step copies one token's keys, not the whole cache)."""
    T = new.size(2)
    if buf is None or n + T > buf.size(2):
        grown = new.new_empty(new.size(0), new.size(1), max(2 * (n + T), 64), new.size(3))
        if buf is not None:
            grown[:, :, :n] = buf[:, :, :n]
        buf = grown
    buf[:, :, n:n + T] = new
    return buf


class TinyGPT(nn.Module):
    def __init__(self, n_layer, n_head, d_model, context_length):
        super().__init__()
        assert d_model % n_head == 0, "dModel must be a multiple of nHead"
        self.config = dict(nLayer=n_layer, nHead=n_head, dModel=d_model, contextLength=context_length)
        self.tok = nn.Embedding(VOCAB, d_model)
        self.pos = nn.Embedding(context_length, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d_model)
        self.gradient_checkpointing = False
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, ids, mask, pos, cache=None, use_cache=False):
        """ids, pos: [B, T]; mask: [B, S] over cached + new tokens (1 = real token). With use_cache
        (generation) `cache` is the list returned by the previous call, or None to start one.
        Returns logits [B, T, V] and the cache."""
        B, T = ids.shape
        S = mask.shape[1]
        x = self.tok(ids) + self.pos(pos)
        # query i sits at absolute index S - T + i; it sees keys j <= that index with mask 1
        causal = torch.ones(T, S, dtype=torch.bool, device=ids.device).tril(S - T)
        allowed = causal[None, None] & mask[:, None, None, :].bool()
        bias = torch.zeros(allowed.shape, dtype=x.dtype, device=ids.device).masked_fill(~allowed, torch.finfo(x.dtype).min)
        if use_cache and cache is None:
            cache = [[None, None, 0] for _ in self.blocks]
        for i, block in enumerate(self.blocks):
            if use_cache:
                x = block(x, bias, cache[i])
            elif self.gradient_checkpointing and self.training:
                x = checkpoint(block, x, bias, use_reentrant=False) if _has_reentrant_arg() else checkpoint(block, x, bias)
            else:
                x = block(x, bias)
        logits = self.ln_f(x) @ self.tok.weight.t()
        return logits, cache


def _has_reentrant_arg():
    import inspect
    return "use_reentrant" in inspect.signature(checkpoint).parameters


class TinyPolicy(Policy):
    backend = "tiny"
    vocab_size = VOCAB
    eos_id = EOS
    pad_id = EOS

    @classmethod
    def create(cls, spec, device):
        cfg = spec.get("tiny") or {"nLayer": 2, "nHead": 4, "dModel": 128, "contextLength": 512}
        p = cls()
        p.name = spec["model"]
        p.device = torch.device(device)
        p.dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[spec["dtype"]]
        torch.manual_seed(spec["seed"])
        p.model = TinyGPT(cfg["nLayer"], cfg["nHead"], cfg["dModel"], cfg["contextLength"]).to(p.device)
        p.model.gradient_checkpointing = spec.get("gradientCheckpointing", False)
        p.context_length = cfg["contextLength"]
        return p

    @classmethod
    def from_config(cls, config, device, name="tiny"):
        spec = {"model": name, "tiny": config, "dtype": "float32", "seed": 0}
        return cls.create(spec, device)

    def encode_prompt(self, text):
        return [BOS] + list(text.encode("utf-8"))

    def encode(self, text):
        return list(text.encode("utf-8"))

    def decode(self, ids):
        return bytes(i for i in ids if i < 256).decode("utf-8", errors="replace")

    def forward(self, ids, mask, pos, cache):
        with self._autocast():
            logits, cache = (self.gen_model or self.model)(ids, mask, pos, cache, use_cache=True)
        return logits.float(), cache

    def logits(self, module, ids, mask):
        pos = (mask.long().cumsum(-1) - 1).clamp(min=0)
        with self._autocast():
            logits, _ = module(ids, mask, pos, None)
        return logits.float()

    def _autocast(self):
        """Weights stay float32; bf16/fp16 apply as autocast (CPU autocast supports bf16 only)."""
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def select_cache(self, cache, index):
        return [[k.index_select(0, index), v.index_select(0, index), n] for k, v, n in cache]

    def fsdp_units(self):
        return list(self.model.blocks)

    def save_weights(self, directory, state=None):
        torch.save(state if state is not None else self.model.state_dict(), os.path.join(directory, "model.pt"))

    def read_weights(self, directory):
        return torch.load(os.path.join(directory, "model.pt"), map_location=self.device, weights_only=True)
