"""`vllm`: vLLM generation colocated with the PyTorch (`hf`) trainer on the same GPUs.

UNTESTED: no machine this project was built on has vLLM. Written against vLLM's and TRL's
documented colocate approach (TRL GRPOTrainer, vllm_mode="colocate"):
  * one in-process `vllm.LLM` per trainer rank (VLLM_ENABLE_V1_MULTIPROCESSING=0), with
    `distributed_executor_backend="external_launcher"` so that under torchrun the ranks form vLLM's
    tensor-parallel groups (tensorParallelSize must divide the world size);
  * sleep mode: the engine sleeps (KV cache dropped, weights offloaded) while the trainer runs and
    wakes before the next generation, so both share the GPU memory (`gpuMemoryUtilization`);
  * weight sync in process: after an update the trainer's parameters are loaded into the engine's
    model (`load_weights`) and the prefix cache is reset, before the next generation.
The trainer is the `hf` policy (tokenizer, forward, checkpoints); only generation goes to vLLM."""
import os

import torch

from ..generation import Sequence
from .base import BackendUnavailable
from .hf import HFPolicy


class VLLMPolicy(HFPolicy):
    backend = "vllm"

    @classmethod
    def create(cls, spec, device, allow_remote_code):
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # keep the engine in this process
        try:
            import vllm
        except ImportError as e:
            raise BackendUnavailable("vllm", f"the Python package 'vllm' is not installed ({e}); install vllm "
                                             "(with a CUDA build of torch) or use the hf backend") from e
        if not torch.cuda.is_available():
            raise BackendUnavailable("vllm", "vLLM needs a CUDA GPU")
        p = super().create(spec, device, allow_remote_code)
        p.__class__ = cls
        v = spec.get("vllm") or {"gpuMemoryUtilization": 0.4, "tensorParallelSize": 1, "enableSleepMode": True}
        world = int(os.environ.get("WORLD_SIZE", "1"))
        kwargs = dict(model=spec["modelPath"], tensor_parallel_size=v["tensorParallelSize"],
                      gpu_memory_utilization=v["gpuMemoryUtilization"], dtype=spec["dtype"], seed=spec["seed"],
                      enable_sleep_mode=v["enableSleepMode"], trust_remote_code=bool(spec.get("trustRemoteCode")) and allow_remote_code,
                      max_model_len=v.get("maxModelLen") or p.context_length)
        if world > 1:
            kwargs["distributed_executor_backend"] = "external_launcher"
        if world % v["tensorParallelSize"]:
            raise BackendUnavailable("vllm", f"tensorParallelSize {v['tensorParallelSize']} must divide the {world} processes")
        p.tensor_parallel = v["tensorParallelSize"]
        p.llm = vllm.LLM(**kwargs)
        p.vllm = vllm
        p.sleep_mode = v["enableSleepMode"]
        p.stale = False
        p.asleep = False
        if p.sleep_mode:
            p.llm.sleep(level=1)
            p.asleep = True
        p.generate_override = p._generate
        return p

    def after_update(self):
        self.stale = True  # pushed lazily, once, before the next generation

    def _engine_model(self):
        executor = self.llm.llm_engine.model_executor
        worker = executor.driver_worker
        worker = getattr(worker, "worker", worker)  # vLLM v1 wraps the worker
        return worker.model_runner.model

    def _sync_weights(self):
        if any(hasattr(t, "full_tensor") for t in self.model.parameters()):  # FSDP shards: gather first
            from ..fsdp import full_model_state
            state = full_model_state(self.model)
        else:
            state = self.model.state_dict()
        self._engine_model().load_weights(((name, t) for name, t in state.items()))
        self.llm.reset_prefix_cache()
        self.stale = False

    def _wake(self):
        """TRL's order: wake the weights, load the new ones, then allocate the KV cache."""
        if self.asleep and self.stale:
            self.llm.wake_up(tags=["weights"])
            self._sync_weights()
            self.llm.wake_up(tags=["kv_cache"])
        elif self.asleep:
            self.llm.wake_up()
        elif self.stale:
            self._sync_weights()
        self.asleep = False

    def _generate(self, prompt_ids, req, generator):
        self._wake()
        params = []
        for row in range(len(prompt_ids)):
            seed = (req["seed"] * 1000003 + row) if req.get("seed") is not None else int(torch.randint(0, 2 ** 31 - 1, (1,), generator=generator))
            params.append(self.vllm.SamplingParams(
                n=1, temperature=req["temperature"], top_p=req["topP"], top_k=req["topK"], max_tokens=req["maxTokens"],
                stop=list(req["stop"]) or None, seed=seed, logprobs=0, detokenize=True))
        outputs = self.llm.generate([{"prompt_token_ids": ids} for ids in prompt_ids], sampling_params=params,
                                    use_tqdm=False)
        seqs = []
        for ids, out in zip(prompt_ids, outputs):
            o = out.outputs[0]
            s = Sequence(ids)
            s.tokens = list(o.token_ids)
            s.logprobs = [float(lp[t].logprob) for t, lp in zip(o.token_ids, o.logprobs or [])] or [0.0] * len(s.tokens)
            s.finish = "length" if o.finish_reason == "length" else "stop"
            s.stop_string = o.stop_reason if isinstance(o.stop_reason, str) else None
            seqs.append(s)
        if self.sleep_mode:
            self.llm.sleep(level=1)
            self.asleep = True
        return seqs
