"""The worker's state and its operations: one method per request type. Requests arrive validated
(protocol.py); results are plain dicts matching the `result.<op>` schemas."""
import json
import os
import platform
import resource
import shutil
import time

import torch

from . import fsdp, generation, training
from .backends import BACKENDS, BackendUnavailable, create_policy


class OpError(Exception):
    """A request that cannot be served; `code` is a protocol error code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class Engine:
    def __init__(self, backend="tiny", data_root=".", device="cpu", allow_remote_code=False, dist=None,
                 gen_batch_size=256, max_rollouts=200_000):
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend}")
        self.backend = backend
        self.data_root = os.path.realpath(data_root)
        self.device = device
        self.allow_remote_code = allow_remote_code
        self.dist = dist or training.DistInfo()
        self.gen_batch_size = gen_batch_size
        self.max_rollouts = max_rollouts
        self.policy = None
        self.optimizer = None
        self.ref_model = None
        self.generator = None
        self.step = 0
        self.rollouts = {}
        self.next_rollout = 0
        self.requests = 0
        self.started = time.time()

    # ------------------------------------------------------------------ helpers
    def handle(self, req, progress=None):
        """Serves one validated request; raises OpError for requests that cannot be served."""
        self.requests += 1
        op = req["type"]
        if op not in ("load", "stats", "ping", "shutdown", "release", "restore") and self.policy is None:
            raise OpError("not-loaded", f"{op}: no model loaded (send `load` first)")
        return getattr(self, "op_" + op)(req, progress) if op in ("generate", "train", "sft") else getattr(self, "op_" + op)(req)

    def resolve(self, path):
        """A path confined to the data root (no absolute paths, no `..`, no symlinks out)."""
        if os.path.isabs(path) or ".." in path.replace("\\", "/").split("/"):
            raise OpError("forbidden", f"path: {path!r} must be relative to the data root, without '..'")
        full = os.path.realpath(os.path.join(self.data_root, path))
        if full != self.data_root and not full.startswith(self.data_root + os.sep):
            raise OpError("forbidden", f"path: {path!r} leaves the data root")
        return full

    def _rng_state(self):
        state = {"torch": torch.get_rng_state(), "generator": self.generator.get_state()}
        if torch.cuda.is_available():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    # ------------------------------------------------------------------ ops
    def op_load(self, req):
        """Replaces the model. A load that fails leaves no model loaded (never a half-built one)."""
        self.policy = self.optimizer = self.ref_model = None
        self.rollouts.clear()
        if req.get("trustRemoteCode") and not self.allow_remote_code:
            raise OpError("forbidden", "trustRemoteCode: remote code is not allowed on this worker (--allow-remote-code)")
        if self.backend == "tiny" and req["model"] != "tiny":
            raise OpError("invalid", f"model: the tiny backend loads model 'tiny', not {req['model']!r}")
        spec = dict(req)
        if self.backend != "tiny":
            spec["modelPath"] = self.resolve(req["model"])
        elif req.get("checkpoint"):  # the tiny model's shape comes from its checkpoint
            meta = self._checkpoint_meta(req["checkpoint"])
            if req.get("tiny") is not None and req["tiny"] != meta["tiny"]:
                raise OpError("invalid", f"tiny: {req['tiny']} differs from the checkpoint's {meta['tiny']}")
            spec["tiny"] = meta["tiny"]
        try:
            policy = create_policy(self.backend, spec, self.device, self.allow_remote_code)
        except BackendUnavailable as e:
            raise OpError("backend-unavailable", str(e))
        o = req["optimizer"]
        self.policy, self.optimizer, self.ref_model, self.dist.ddp = policy, None, None, None
        self.step, self.next_rollout = 0, 0
        self.rollouts.clear()
        try:
            if req["referenceModel"]:
                import copy
                self.ref_model = copy.deepcopy(policy.model).eval().requires_grad_(False)
            self._parallelize()  # before the optimizer: FSDP replaces the parameters with shards
            self.optimizer = torch.optim.AdamW(policy.model.parameters(), lr=o["lr"], betas=(o["beta1"], o["beta2"]),
                                               eps=o["eps"], weight_decay=o["weightDecay"])
            self.generator = torch.Generator().manual_seed(req["seed"])
            if req.get("checkpoint"):
                self.op_restore({"path": req["checkpoint"]})
        except BaseException:
            self.policy = self.optimizer = self.ref_model = None  # a failed load leaves nothing half-loaded
            raise
        return self._load_result()

    def _parallelize(self):
        if self.dist.fsdp:
            if not fsdp.available():
                raise OpError("backend-unavailable", f"FSDP needs torch >= 2.6 (fully_shard); this is torch {torch.__version__}")
            fsdp.shard(self.policy, self.dist.world)
        elif self.dist.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP
            self.dist.ddp = DDP(self.policy.model)

    def _load_result(self):
        p = self.policy
        return dict(backend=self.backend, model=p.name, parameters=sum(t.numel() for t in p.model.parameters()),
                    vocabSize=p.vocab_size, contextLength=p.context_length, device=str(p.device),
                    dtype=str(p.dtype).replace("torch.", ""), step=self.step)

    def op_tokenize(self, req):
        return {"ids": [self.policy.encode(t) for t in req["texts"]]}

    def op_countTokens(self, req):
        return {"counts": [len(self.policy.encode(t)) for t in req["texts"]]}

    def op_generate(self, req, progress=None):
        p = self.policy
        n = req["n"]
        if req["store"] and len(self.rollouts) + len(req["prompts"]) * n > self.max_rollouts:
            raise OpError("failed-precondition",
                          f"rollout store full ({len(self.rollouts)} kept, limit {self.max_rollouts}): train or release first")
        encoded = [p.encode_prompt(t) for t in req["prompts"]]
        for i, ids in enumerate(encoded):
            if len(ids) >= p.context_length:
                raise OpError("invalid", f"prompts[{i}]: {len(ids)} tokens, the model's context is {p.context_length}")
        rows = [(i, j) for i in range(len(encoded)) for j in range(n)]
        gen = self.generator
        if req.get("seed") is not None:
            gen = torch.Generator().manual_seed(req["seed"] * 7919 + self.dist.rank)
        if self.dist.fsdp:
            fsdp.refresh_generation_copy(p)
        t0 = time.time()
        # rows are split across data-parallel groups; ranks of one vLLM tensor-parallel group share theirs
        tp = getattr(p, "tensor_parallel", 1)
        local = rows[self.dist.rank // tp::max(1, self.dist.world // tp)]
        if p.generate_override is not None:
            seqs = p.generate_override([encoded[i] for i, _ in local], req, gen)
        else:
            seqs = generation.generate(p, [encoded[i] for i, _ in local], req["maxTokens"], req["temperature"],
                                       req["topK"], req["topP"], req["stop"], gen, self.gen_batch_size, progress)
        if self.dist.world > 1:
            seqs = self._gather_rows(local, seqs, rows)
        seconds = time.time() - t0
        out = []
        for (i, j), s in zip(rows, seqs):
            rid = None
            if req["store"]:
                rid = f"r{self.next_rollout}"
                self.next_rollout += 1
                self.rollouts[rid] = {"prompt": s.prompt_ids, "completion": s.tokens, "tag": req["tag"],
                                      "logprobs": torch.tensor(s.logprobs) if req["keepLogprobs"] else None}
            r = dict(rolloutId=rid, promptIndex=i, sampleIndex=j, text=generation.completion_text(p, s),
                     promptTokens=len(s.prompt_ids), completionTokens=len(s.tokens), finishReason=s.finish,
                     stopString=s.stop_string)
            if req["returnTokenIds"]:
                r["tokenIds"] = list(s.tokens)
            if req["returnLogprobs"]:
                r["logprobs"] = list(s.logprobs)
            out.append(r)
        completion_tokens = sum(len(s.tokens) for s in seqs)
        return dict(rollouts=out, promptTokens=sum(len(s.prompt_ids) for s in seqs), completionTokens=completion_tokens,
                    seconds=seconds, tokensPerSecond=completion_tokens / seconds if seconds > 0 else 0.0)

    def _gather_rows(self, local, seqs, rows):
        import torch.distributed as tdist
        parts = [None] * self.dist.world
        tdist.all_gather_object(parts, [(row, s.prompt_ids, s.tokens, s.logprobs, s.finish, s.stop_string)
                                        for row, s in zip(local, seqs)])
        by_row = {}
        for part in parts:
            for row, prompt, tokens, logprobs, finish, stop in part:
                s = generation.Sequence(prompt)
                s.tokens, s.logprobs, s.finish, s.stop_string = tokens, logprobs, finish, stop
                by_row[tuple(row)] = s
        return [by_row[r] for r in rows]

    def op_train(self, req, progress=None):
        items, advs, olds = [], [], []
        ids = [r["rolloutId"] for r in req["rollouts"]]
        missing = [i for i in ids if i not in self.rollouts]
        if missing:
            raise OpError("not-found", f"rollouts: unknown rollout ids {', '.join(missing[:5])}"
                                       f"{' …' if len(missing) > 5 else ''} ({len(missing)} missing)")
        if len(set(ids)) != len(ids):
            raise OpError("invalid", "rollouts: a rollout id appears twice")
        if req["klCoef"] > 0 and self.ref_model is None:
            raise OpError("failed-precondition", "klCoef: needs a reference model (load with referenceModel: true)")
        for r in req["rollouts"]:
            ro = self.rollouts[r["rolloutId"]]
            if not ro["completion"]:
                continue  # an empty completion has no tokens to train
            items.append((ro["prompt"], ro["completion"]))
            advs.append(float(r["advantage"]))
            if req["oldLogprobs"] == "generation":
                if ro["logprobs"] is None:
                    raise OpError("failed-precondition",
                                  f"oldLogprobs: rollout {r['rolloutId']} was generated without keepLogprobs")
                olds.append(ro["logprobs"])
        if req.get("lr") is not None:
            for g in self.optimizer.param_groups:
                g["lr"] = req["lr"]
        if not items:
            raise OpError("invalid", "rollouts: every completion is empty; nothing to train")
        result = training.train_ppo(self.policy, self.optimizer, items, advs,
                                    olds if req["oldLogprobs"] == "generation" else None, req, self.dist,
                                    self.ref_model, progress)
        self.step += result["optimizerSteps"]
        self._updated()
        if req["release"]:
            for i in ids:
                self.rollouts.pop(i, None)
        return dict(step=self.step, **result)

    def op_sft(self, req, progress=None):
        p = self.policy
        token_lists = [p.encode_prompt(t)[:p.context_length] + [] for t in req["texts"]]
        token_lists = [t + [p.eos_id] if len(t) < p.context_length else t for t in token_lists]
        if req.get("lr") is not None:
            for g in self.optimizer.param_groups:
                g["lr"] = req["lr"]
        result = training.train_sft(p, self.optimizer, token_lists, req, self.dist, progress)
        self.step += len(result["losses"])
        self._updated()
        return dict(step=self.step, **result)

    def _updated(self):
        if self.dist.fsdp:
            self.policy.gen_stale = True

    def op_release(self, req):
        if req["all"]:
            n = len(self.rollouts)
            self.rollouts.clear()
        else:
            n = sum(self.rollouts.pop(i, None) is not None for i in req["rolloutIds"])
        return {"released": n, "remaining": len(self.rollouts)}

    def op_save(self, req):
        if self.policy is None:
            raise OpError("not-loaded", "save: no model loaded")
        final = self.resolve(req["path"])
        tmp = final + ".tmp"
        model_state = optim_state = None
        if self.dist.fsdp:  # gathered on rank 0 (collectives: every rank takes part)
            model_state = fsdp.full_model_state(self.policy.model, cpu_offload=True)
            optim_state = fsdp.full_optimizer_state(self.policy.model, self.optimizer)
        if self.dist.rank == 0:
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)
            self.policy.save_weights(tmp, model_state)
            # torch.load(weights_only=True) on torch 1.13 reads tensors but not floats: tensors go to
            # trainer.pt, every other value to meta.json.
            tensors, plain = split_state({"optimizer": optim_state or self.optimizer.state_dict(), "rng": self._rng_state(),
                                          "reference": self.ref_model.state_dict() if self.ref_model is not None else None})
            torch.save(tensors, os.path.join(tmp, "trainer.pt"))
            with open(os.path.join(tmp, "meta.json"), "w") as f:
                json.dump({"backend": self.backend, "model": self.policy.name, "step": self.step, "format": 1,
                           "next_rollout": self.next_rollout, "tiny": self.policy.model.config if self.backend == "tiny" else None,
                           "fsdp": self.dist.fsdp, "state": plain}, f)
            shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
        self._barrier()
        size = sum(os.path.getsize(os.path.join(final, f)) for f in os.listdir(final)) if os.path.isdir(final) else 0
        return {"path": req["path"], "step": self.step, "bytes": size}

    def op_restore(self, req):
        path = self.resolve(req["path"])
        meta = self._checkpoint_meta(req["path"])
        if meta["backend"] != self.backend:
            raise OpError("failed-precondition", f"path: checkpoint is for backend {meta['backend']}, worker runs {self.backend}")
        if self.policy is None:
            if self.backend != "tiny":
                raise OpError("not-loaded", "restore: load the model first (hf/vllm)")
            self.op_load({"type": "load", "model": "tiny", "tiny": meta["tiny"], "dtype": "float32", "seed": 0,
                          "optimizer": {"lr": 1e-6, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weightDecay": 0},
                          "gradientCheckpointing": False, "referenceModel": False, "trustRemoteCode": False})
        if meta.get("fsdp", False) != self.dist.fsdp:
            raise OpError("failed-precondition", "path: FSDP and non-FSDP checkpoints are not interchangeable yet")
        tensors = torch.load(os.path.join(path, "trainer.pt"), map_location="cpu", weights_only=True)
        state = join_state(tensors, meta["state"])
        optim = state["optimizer"]
        for g in optim["param_groups"]:
            g["betas"] = tuple(g["betas"])
        if self.dist.fsdp:  # full state on every rank, each keeps its shard
            fsdp.load_full_state(self.policy.model, self.optimizer, self.policy.read_weights(path), optim)
            self.policy.gen_stale = True
        else:
            self.policy.load_weights(path)
            optim["state"] = {int(k): v for k, v in optim["state"].items()}
            self.optimizer.load_state_dict(optim)
        torch.set_rng_state(state["rng"]["torch"])
        self.generator.set_state(state["rng"]["generator"])
        if "cuda" in state["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(list(state["rng"]["cuda"]))
        if state.get("reference") is not None:
            import copy
            self.ref_model = copy.deepcopy(self.policy.model).eval().requires_grad_(False)
            self.ref_model.load_state_dict(state["reference"])
        self.step = meta["step"]
        self.next_rollout = meta["next_rollout"]
        self.rollouts.clear()
        return {"step": self.step}

    def _checkpoint_meta(self, rel):
        path = self.resolve(rel)
        if not os.path.isfile(os.path.join(path, "meta.json")):
            raise OpError("not-found", f"path: no checkpoint at {rel!r}")
        with open(os.path.join(path, "meta.json")) as f:
            return json.load(f)

    def _barrier(self):
        if self.dist.world > 1:
            import torch.distributed as tdist
            tdist.barrier()

    def op_stats(self, req):
        p = self.policy
        gpu = torch.cuda.memory_allocated() if torch.cuda.is_available() else None
        return dict(backend=self.backend, model=p.name if p else None, step=self.step, rollouts=len(self.rollouts),
                    parameters=sum(t.numel() for t in p.model.parameters()) if p else 0,
                    device=str(p.device) if p else self.device,
                    rssBytes=_rss_bytes(), gpuMemoryBytes=gpu,
                    uptimeSeconds=time.time() - self.started, requests=self.requests, worldSize=self.dist.world)

    def op_ping(self, req):
        return {}

    def op_shutdown(self, req):
        return {}


def split_state(obj, prefix=""):
    """Splits a nested structure into {path: tensor} and the same structure with tensors replaced by
    {"$tensor": path}, so tensors load with weights_only=True and the rest is JSON."""
    tensors = {}

    def walk(o, path):
        if torch.is_tensor(o):
            tensors[path] = o.detach().cpu()
            return {"$tensor": path}
        if isinstance(o, dict):
            return {"$dict": [[k, walk(v, f"{path}/{k}")] for k, v in o.items()]}
        if isinstance(o, (list, tuple)):
            return [walk(v, f"{path}/{i}") for i, v in enumerate(o)]
        return o
    return tensors, walk(obj, prefix)


def join_state(tensors, plain):
    def walk(o):
        if isinstance(o, dict) and "$tensor" in o:
            return tensors[o["$tensor"]]
        if isinstance(o, dict) and "$dict" in o:
            return {k: walk(v) for k, v in o["$dict"]}
        if isinstance(o, list):
            return [walk(v) for v in o]
        return o
    return walk(plain)


def _rss_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def versions():
    v = {"python": platform.python_version(), "torch": torch.__version__}
    for mod in ("websockets", "numpy", "transformers", "vllm"):
        try:
            v[mod] = __import__(mod).__version__
        except Exception:
            pass
    return v


def devices():
    if torch.cuda.is_available():
        return [{"kind": "cuda", "name": torch.cuda.get_device_name(i),
                 "memoryBytes": torch.cuda.get_device_properties(i).total_memory}
                for i in range(torch.cuda.device_count())]
    return [{"kind": "cpu", "name": platform.processor() or platform.machine(), "memoryBytes": _mem_total()}]


def _mem_total():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0
