"""Batched sampling with a KV cache: temperature, top-k, top-p, max tokens, stop strings, seeds."""
import torch
import torch.nn.functional as F


def sample_next(logits, temperature, top_k, top_p, generator):
    """logits [B, V] -> next token ids [B]. temperature 0 = greedy."""
    if temperature == 0:
        return logits.argmax(-1)
    logits = logits / temperature
    if top_k > 0 and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        probs = F.softmax(sorted_logits, dim=-1)
        # drop a token when the tokens ranked above it already reach top_p (the first always stays)
        drop = probs.cumsum(-1) - probs >= top_p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    probs = F.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


class Sequence:
    __slots__ = ("prompt_ids", "tokens", "logprobs", "finish", "stop_string")

    def __init__(self, prompt_ids):
        self.prompt_ids = prompt_ids
        self.tokens = []
        self.logprobs = []
        self.finish = None
        self.stop_string = None


def _stop_hit(policy, seq, stop, window):
    tail = policy.decode(seq.tokens[-window:])
    for s in stop:
        if s in tail:
            return s
    return None


@torch.no_grad()
def generate(policy, prompt_ids, max_tokens, temperature=1.0, top_k=-1, top_p=1.0, stop=(), generator=None,
             batch_size=256, progress=None):
    """prompt_ids: one token list per row. Returns one Sequence per row with its completion tokens,
    the policy's logprob of each (temperature 1, unfiltered: what the trainer recomputes), the finish
    reason and the stop string. Text is cut at the stop string by `completion_text`."""
    seqs = [Sequence(p) for p in prompt_ids]
    window = 4 * max((len(s) for s in stop), default=0) + 8
    was_training = policy.model.training
    policy.model.eval()
    try:
        for start in range(0, len(seqs), batch_size):
            _generate_batch(policy, seqs[start:start + batch_size], max_tokens, temperature, top_k, top_p, stop,
                            window, generator)
            if progress:
                progress(min(start + batch_size, len(seqs)), len(seqs))
    finally:
        policy.model.train(was_training)
    return seqs


def _generate_batch(policy, seqs, max_tokens, temperature, top_k, top_p, stop, window, generator):
    dev = policy.device
    T = max(len(s.prompt_ids) for s in seqs)
    ids = torch.full((len(seqs), T), policy.pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), T), dtype=torch.long)
    for i, s in enumerate(seqs):  # left padding
        ids[i, T - len(s.prompt_ids):] = torch.tensor(s.prompt_ids, dtype=torch.long)
        mask[i, T - len(s.prompt_ids):] = 1
    ids, mask = ids.to(dev), mask.to(dev)
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    logits, cache = policy.forward(ids, mask, pos, None)
    last_pos = pos[:, -1:]
    active = list(range(len(seqs)))  # rows of the current batch -> index into seqs
    budget = [min(max_tokens, policy.context_length - len(s.prompt_ids)) for s in seqs]
    for i, s in enumerate(seqs):
        if budget[i] <= 0:
            s.finish = "length"
    for _ in range(max_tokens):
        step_logits = logits[:, -1, :].float()
        nxt = sample_next(step_logits, temperature, top_k, top_p, generator)
        lp = F.log_softmax(step_logits, dim=-1).gather(-1, nxt[:, None]).squeeze(-1)
        keep = []
        toks, lps = nxt.tolist(), lp.tolist()
        for row, si in enumerate(active):
            s = seqs[si]
            if s.finish is not None:
                continue
            tok = toks[row]
            s.tokens.append(tok)
            s.logprobs.append(lps[row])
            if tok == policy.eos_id:
                s.finish = "stop"
            elif stop and (hit := _stop_hit(policy, s, stop, window)) is not None:
                s.finish, s.stop_string = "stop", hit
            elif len(s.tokens) >= budget[si]:
                s.finish = "length"
            else:
                keep.append(row)
        if not keep:
            break
        # drop finished rows from the batch once a quarter of it is done (each drop copies the cache)
        if len(keep) <= 0.75 * len(active):
            index = torch.tensor(keep, dtype=torch.long, device=dev)
            selected = policy.select_cache(cache, index)
            if selected is not None:
                cache, nxt, mask, last_pos = selected, nxt[index], mask[index], last_pos[index]
                active = [active[r] for r in keep]
        mask = torch.cat([mask, torch.ones((mask.size(0), 1), dtype=mask.dtype, device=dev)], dim=1)
        last_pos = last_pos + 1
        logits, cache = policy.forward(nxt[:, None], mask, last_pos, cache)


def completion_text(policy, seq):
    """The completion's text without EOS, cut before the first stop string."""
    text = policy.decode([t for t in seq.tokens if t != policy.eos_id] if seq.finish == "stop" else seq.tokens)
    if seq.stop_string is not None:
        text = text[:text.find(seq.stop_string)]
    return text
