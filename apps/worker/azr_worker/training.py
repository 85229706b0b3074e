"""Policy-gradient updates: token-level PPO-clip on per-rollout advantages, and SFT.

A rollout's advantage is broadcast to all of its response tokens. Losses are aggregated over the
whole mini-batch (token-mean: divide by the mini-batch's response tokens; seq-mean-*: by its
sequences), so gradient accumulation over micro-batches gives exactly the full-batch gradient.
Under data parallelism every rank holds every rollout, takes its share of each mini-batch and
scales its loss by the world size (DDP averages gradients), so the update equals the one-process one.
"""
import contextlib
import math
import time

import torch
import torch.nn.functional as F


def ppo_token_loss(logp, old_logp, adv, clip_low=0.2, clip_high=0.2, dual_clip=None):
    """Per-token clipped surrogate loss and whether the clip was active. All tensors [B, T]."""
    ratio = torch.exp(logp - old_logp)
    loss1 = -adv * ratio
    loss2 = -adv * torch.clamp(ratio, 1.0 - clip_low, 1.0 + clip_high)
    loss = torch.maximum(loss1, loss2)
    clipped = loss2 > loss1
    if dual_clip is not None:
        loss3 = -adv * dual_clip
        loss = torch.where(adv < 0, torch.minimum(loss, loss3), loss)
    return loss, clipped


def aggregate(token_values, mask, mode, total_tokens, total_seqs):
    """Sums this micro-batch's share of the mini-batch loss. `total_*` count the whole mini-batch."""
    if mode == "token-mean":
        return (token_values * mask).sum() / max(total_tokens, 1)
    per_seq = (token_values * mask).sum(-1)
    if mode == "seq-mean-token-mean":
        per_seq = per_seq / mask.sum(-1).clamp(min=1)
    elif mode != "seq-mean-token-sum":
        raise ValueError(f"unknown loss aggregation {mode}")
    return per_seq.sum() / max(total_seqs, 1)


def kl_k3(logp, ref_logp):
    """The k3 estimator of KL(policy || reference) per token (veRL's low_var_kl), clamped."""
    d = ref_logp - logp
    return torch.clamp(torch.exp(d) - d - 1, max=10.0)


def batch_tensors(items, pad_id, device):
    """items: (prompt_ids, completion_ids). Right-padded ids [B, L], attention mask, and the
    response mask [B, L-1] over positions whose next token is a completion token."""
    L = max(len(p) + len(c) for p, c in items)
    ids = torch.full((len(items), L), pad_id, dtype=torch.long)
    mask = torch.zeros((len(items), L), dtype=torch.long)
    resp = torch.zeros((len(items), L - 1), dtype=torch.float32)
    for i, (p, c) in enumerate(items):
        seq = list(p) + list(c)
        ids[i, :len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[i, :len(seq)] = 1
        resp[i, len(p) - 1:len(seq) - 1] = 1.0
    return ids.to(device), mask.to(device), resp.to(device)


def token_logprobs(policy, module, ids, mask, with_entropy=False, entropy_grad=False):
    """Logprob of each next token [B, L-1] and, if asked, the policy's entropy there (with a gradient
    only when the loss uses it: over a large vocabulary it costs as much memory as the logits)."""
    logits = policy.logits(module, ids, mask)[:, :-1]
    logp_all = F.log_softmax(logits, dim=-1)
    logp = logp_all.gather(-1, ids[:, 1:, None]).squeeze(-1)
    entropy = None
    if with_entropy:
        with torch.set_grad_enabled(entropy_grad and torch.is_grad_enabled()):
            src = logp_all if entropy_grad else logp_all.detach()
            entropy = -(src.exp() * src).sum(-1)
    return logp, entropy


def _chunks(seq, size):
    return [seq[i:i + size] for i in range(0, len(seq), size)]


@torch.no_grad()
def recompute_logprobs(policy, module, items, micro_batch_size):
    """Per-item logprobs of the completion tokens under the current weights (eval mode)."""
    was = policy.model.training
    policy.model.eval()
    out = []
    for chunk in _chunks(items, micro_batch_size):
        ids, mask, resp = batch_tensors(chunk, policy.pad_id, policy.device)
        logp, _ = token_logprobs(policy, policy.model, ids, mask)
        for i, (p, c) in enumerate(chunk):
            out.append(logp[i, len(p) - 1:len(p) - 1 + len(c)].detach().cpu())
    policy.model.train(was)
    return out


class DistInfo:
    """rank/world of this process; `mode` is "ddp" (ddp holds the DDP wrapper) or "fsdp"."""

    def __init__(self, rank=0, world=1, ddp_module=None, mode="ddp"):
        self.rank, self.world, self.ddp, self.mode = rank, world, ddp_module, mode

    @property
    def fsdp(self):
        return self.world > 1 and self.mode == "fsdp"


def _grad_sync(dist, sync):
    """DDP: a context skipping the all-reduce on accumulation passes; FSDP: the same switch."""
    if dist.ddp is not None and not sync:
        return dist.ddp.no_sync()
    if dist.fsdp:
        dist.module.set_requires_gradient_sync(sync)
    return contextlib.nullcontext()


def _clip(params, max_norm):
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return float(norm.full_tensor() if hasattr(norm, "full_tensor") else norm)  # FSDP: a DTensor


def _local_share(batch, dist):
    return batch[dist.rank::dist.world]


def train_ppo(policy, optimizer, items, advantages, old_logprobs, cfg, dist=None, ref_model=None, progress=None):
    """items: (prompt_ids, completion_ids) per rollout; advantages: floats; old_logprobs: a tensor per
    rollout (completion length) or None to recompute. Returns the metrics of the `train` result."""
    dist = dist or DistInfo()
    module = dist.module = dist.ddp or policy.model
    t0 = time.time()
    if old_logprobs is None:
        old_logprobs = recompute_logprobs(policy, policy.model, items, cfg["microBatchSize"])
    policy.model.train()
    order = list(range(len(items)))
    sums = dict(loss=0.0, pg=0.0, kl=0.0, clipped=0.0, approx_kl=0.0, entropy=0.0, tokens=0)
    grad_norms = []
    minis = [mb for _ in range(cfg["epochs"]) for mb in _chunks(order, cfg["miniBatchSize"])]
    for done, mb in enumerate(minis):
        total_tokens = sum(len(items[i][1]) for i in mb)
        total_seqs = len(mb)
        local = _local_share(mb, dist)
        n_micro = max(1, math.ceil(math.ceil(len(mb) / dist.world) / cfg["microBatchSize"]))
        optimizer.zero_grad(set_to_none=True)
        mb_loss = mb_pg = mb_kl = 0.0
        for k in range(n_micro):
            micro = local[k * cfg["microBatchSize"]:(k + 1) * cfg["microBatchSize"]]
            weight = 1.0
            if not micro:  # this rank has no share left: a zero-weight pass keeps DDP's collectives in step
                micro, weight = [mb[0]], 0.0
            ids, mask, resp = batch_tensors([items[i] for i in micro], policy.pad_id, policy.device)
            adv = torch.tensor([advantages[i] for i in micro], dtype=torch.float32, device=policy.device)[:, None]
            old = torch.zeros_like(resp)
            for r, i in enumerate(micro):
                p = len(items[i][0])
                old[r, p - 1:p - 1 + len(items[i][1])] = old_logprobs[i].to(policy.device)
            with _grad_sync(dist, k == n_micro - 1):
                logp, entropy = token_logprobs(policy, module, ids, mask, with_entropy=True,
                                               entropy_grad=cfg["entropyCoef"] > 0)
                pg_tok, clipped = ppo_token_loss(logp, old, adv.expand_as(logp), cfg["clipLow"], cfg["clipHigh"],
                                                 cfg["dualClip"])
                tok = pg_tok
                kl_tok = torch.zeros_like(pg_tok)
                if cfg["klCoef"] > 0:
                    with torch.no_grad():
                        ref_logp, _ = token_logprobs(policy, ref_model, ids, mask)
                    kl_tok = kl_k3(logp, ref_logp)
                    tok = tok + cfg["klCoef"] * kl_tok
                if cfg["entropyCoef"] > 0:
                    tok = tok - cfg["entropyCoef"] * entropy
                agg = lambda v: aggregate(v, resp, cfg["lossAggregation"], total_tokens, total_seqs)  # noqa: E731
                loss = agg(tok) * weight
                (loss * dist.world).backward()
            if weight:
                n_tok = float(resp.sum())
                mb_loss += float(loss.detach())
                mb_pg += float(agg(pg_tok.detach()))
                mb_kl += float(agg(kl_tok.detach()))
                sums["clipped"] += float((clipped.float() * resp).sum())
                sums["approx_kl"] += float(((old - logp.detach()) * resp).sum())
                sums["entropy"] += float((entropy.detach() * resp).sum())
                sums["tokens"] += int(n_tok)
        grad_norms.append(_clip(policy.model.parameters(), cfg["gradClip"]))
        optimizer.step()
        policy.after_update()
        sums["loss"] += mb_loss
        sums["pg"] += mb_pg
        sums["kl"] += mb_kl
        if progress:
            progress(done + 1, len(minis))
    stats = _reduce(sums, dist)
    n_steps = len(minis)
    tokens = max(stats["tokens"], 1)
    seconds = time.time() - t0
    return dict(
        optimizerSteps=n_steps,
        loss=stats["loss"] / n_steps,
        pgLoss=stats["pg"] / n_steps,
        klLoss=stats["kl"] / n_steps,
        gradNorm=sum(grad_norms) / n_steps,
        gradNorms=grad_norms,
        clipFraction=stats["clipped"] / tokens,
        approxKl=stats["approx_kl"] / tokens,
        entropy=stats["entropy"] / tokens,
        tokens=int(stats["tokens"]),
        seconds=seconds,
        tokensPerSecond=stats["tokens"] / seconds if seconds > 0 else 0.0,
    )


def _reduce(sums, dist):
    """Sums per-rank statistics across ranks (losses are already per-rank shares of a mean)."""
    if dist.world == 1:
        return sums
    import torch.distributed as tdist
    keys = sorted(sums)
    t = torch.tensor([float(sums[k]) for k in keys], dtype=torch.float64)
    tdist.all_reduce(t)
    return {k: float(v) for k, v in zip(keys, t.tolist())}


def train_sft(policy, optimizer, token_lists, cfg, dist=None, progress=None):
    """Next-token cross-entropy on whole texts, token-mean per optimizer step."""
    dist = dist or DistInfo()
    module = dist.module = dist.ddp or policy.model
    t0 = time.time()
    policy.model.train()
    losses, total_tokens = [], 0
    order = list(range(len(token_lists)))
    minis = [mb for _ in range(cfg["epochs"]) for mb in _chunks(order, cfg["batchSize"])]
    for done, mb in enumerate(minis):
        n_tok = sum(len(token_lists[i]) - 1 for i in mb)
        local = _local_share(mb, dist)
        n_micro = max(1, math.ceil(math.ceil(len(mb) / dist.world) / cfg["microBatchSize"]))
        optimizer.zero_grad(set_to_none=True)
        step_loss = 0.0
        for k in range(n_micro):
            micro = local[k * cfg["microBatchSize"]:(k + 1) * cfg["microBatchSize"]]
            weight = 1.0
            if not micro:
                micro, weight = [mb[0]], 0.0
            ids, mask, _ = batch_tensors([(token_lists[i][:1], token_lists[i][1:]) for i in micro], policy.pad_id,
                                         policy.device)
            target = mask[:, 1:].float()
            with _grad_sync(dist, k == n_micro - 1):
                logp, _ = token_logprobs(policy, module, ids, mask)
                loss = -(logp * target).sum() / max(n_tok, 1) * weight
                (loss * dist.world).backward()
            step_loss += float(loss.detach())
            total_tokens += int(target.sum()) if weight else 0
        _clip(policy.model.parameters(), cfg["gradClip"])
        optimizer.step()
        policy.after_update()
        losses.append(_reduce({"l": step_loss}, dist)["l"])
        if progress:
            progress(done + 1, len(minis))
    total_tokens = int(_reduce({"t": total_tokens}, dist)["t"])
    seconds = time.time() - t0
    return dict(losses=losses, tokens=total_tokens, seconds=seconds,
                tokensPerSecond=total_tokens / seconds if seconds > 0 else 0.0)
