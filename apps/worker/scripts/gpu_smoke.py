"""GPU smoke test of the `hf` backend, with no downloads: a tiny random-initialised Qwen2 built
from a config and a byte-level BPE tokenizer trained in memory.

    python3 apps/worker/scripts/gpu_smoke.py [--device cuda] [--dtype bfloat16]

Checks load, seeded generation (max tokens, stop strings, same seed -> same text), PPO-clip updates
raising the logprob of positively-advantaged rollouts, SFT lowering the loss, and save/restore
giving the same next update within a tolerance. Prints one JSON object; exits 1 on any failure.
Needs torch with CUDA, transformers and tokenizers (and safetensors for the checkpoint check)."""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch  # noqa: E402

from azr_worker import protocol, training  # noqa: E402
from azr_worker.engine import Engine  # noqa: E402


def build_model(directory, seed):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = ["def f(x):\n    return x + 1\n", "<think> reasoning </think> <answer> 42 </answer>", "hello world"] * 50
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>"],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    fast.save_pretrained(directory)
    torch.manual_seed(seed)
    cfg = Qwen2Config(vocab_size=len(fast), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                      eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id, tie_word_embeddings=True)
    Qwen2ForCausalLM(cfg).save_pretrained(directory, safe_serialization=True)


def req(message):
    return protocol.validate("request." + message["type"], dict(message, id="smoke"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="bfloat16")
    args = ap.parse_args()
    report = {"device": args.device, "dtype": args.dtype, "torch": torch.__version__, "checks": {}}
    checks = report["checks"]
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        report["error"] = "CUDA is not available"
        print(json.dumps(report))
        return 1
    root = tempfile.mkdtemp(prefix="azr-gpu-smoke-")
    try:
        build_model(os.path.join(root, "qwen2-tiny"), 0)
    except ImportError as e:
        report["error"] = f"the hf backend needs transformers and tokenizers: {e}"
        print(json.dumps(report))
        return 2
    import transformers
    report["transformers"] = transformers.__version__
    if torch.cuda.is_available():
        report["gpu"] = torch.cuda.get_device_name(0)

    def engine():
        e = Engine("hf", root, args.device)
        e.handle(req({"type": "load", "model": "qwen2-tiny", "dtype": args.dtype, "seed": 0, "optimizer": {"lr": 1e-3}}))
        return e

    e = engine()
    prompts = ["def f(x):", "<think>", "hello"]
    t0 = time.time()
    a = e.handle(req({"type": "generate", "prompts": prompts, "n": 4, "maxTokens": 24, "seed": 1, "returnTokenIds": True}))
    report["generate_seconds"] = time.time() - t0
    b = e.handle(req({"type": "generate", "prompts": prompts, "n": 4, "maxTokens": 24, "seed": 1, "store": False}))
    protocol.validate("result.generate", a)
    checks["max_tokens"] = all(r["completionTokens"] <= 24 for r in a["rollouts"])
    checks["seeded_same"] = [r["text"] for r in a["rollouts"]] == [r["text"] for r in b["rollouts"]]
    stop_char = next((r["text"][2] for r in a["rollouts"] if len(r["text"]) > 3), None)
    if stop_char:
        s = e.handle(req({"type": "generate", "prompts": prompts, "n": 4, "maxTokens": 24, "seed": 1, "stop": [stop_char], "store": False}))
        checks["stop_string"] = all(stop_char not in r["text"] for r in s["rollouts"]) and any(r["stopString"] for r in s["rollouts"])

    rid = a["rollouts"][0]["rolloutId"]
    item = [(e.rollouts[rid]["prompt"], e.rollouts[rid]["completion"])]
    before = float(training.recompute_logprobs(e.policy, e.policy.model, item, 1)[0].sum())
    advs = [{"rolloutId": r["rolloutId"], "advantage": 1.0 if r["rolloutId"] == rid else 0.0} for r in a["rollouts"]]
    t0 = time.time()
    res = e.handle(req({"type": "train", "rollouts": advs, "miniBatchSize": 12, "microBatchSize": 4}))
    report["train_seconds"] = time.time() - t0
    protocol.validate("result.train", res)
    after = float(training.recompute_logprobs(e.policy, e.policy.model, item, 1)[0].sum())
    checks["train_finite"] = all(map(lambda v: v == v and abs(v) != float("inf"), [res["loss"], res["gradNorm"], res["entropy"]]))
    checks["positive_advantage_raises_logprob"] = after > before
    report["logprob_before_after"] = [before, after]

    sft = e.handle(req({"type": "sft", "texts": ["<think> reasoning </think> <answer> 42 </answer>"] * 4, "batchSize": 4, "epochs": 30}))
    checks["sft_lowers_loss"] = sft["losses"][-1] < 0.5 * sft["losses"][0]
    report["sft_loss_first_last"] = [sft["losses"][0], sft["losses"][-1]]

    e.handle(req({"type": "save", "path": "ckpt"}))
    f = engine()
    f.handle(req({"type": "restore", "path": "ckpt"}))

    def next_update(x):
        g = x.handle(req({"type": "generate", "prompts": prompts, "n": 2, "maxTokens": 16, "seed": 5}))
        r = x.handle(req({"type": "train", "rollouts": [{"rolloutId": o["rolloutId"], "advantage": 0.5} for o in g["rollouts"]]}))
        return [o["text"] for o in g["rollouts"]], r

    ta, ra = next_update(e)
    tb, rb = next_update(f)
    checks["restore_same_generation"] = ta == tb
    report["restore_loss_diff"] = abs(ra["loss"] - rb["loss"])
    report["restore_grad_norm_rel_diff"] = abs(ra["gradNorm"] - rb["gradNorm"]) / max(abs(ra["gradNorm"]), 1e-12)
    checks["restore_same_update"] = report["restore_loss_diff"] < 1e-3 and report["restore_grad_norm_rel_diff"] < 1e-2
    report["ok"] = all(checks.values())
    print(json.dumps(report, indent=1))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
