"""The vllm backend's glue (sleep/wake order, weight sync, sampling parameters, output conversion)
against a TEST DOUBLE of vLLM's LLM: vLLM and a GPU cannot run on this project's machines, so the
real engine is untested (see backends/vllm_backend.py). The double records calls and returns
outputs shaped like vLLM's RequestOutput/CompletionOutput."""
import types
import unittest

import torch
from helpers import SMALL

from azr_worker.backends.tiny import TinyGPT
from azr_worker.backends.vllm_backend import VLLMPolicy


class FakeVLLMEngine:
    """Test double: records what the backend asks of vLLM's LLM."""

    def __init__(self, model):
        self.calls = []
        self.model = model
        executor = types.SimpleNamespace(driver_worker=types.SimpleNamespace(
            worker=types.SimpleNamespace(model_runner=types.SimpleNamespace(model=self))))
        self.llm_engine = types.SimpleNamespace(model_executor=executor)

    def load_weights(self, weights):  # the engine model's load_weights
        names = [name for name, _ in weights]
        self.calls.append(("load_weights", len(names)))

    def sleep(self, level):
        self.calls.append(("sleep", level))

    def wake_up(self, tags=None):
        self.calls.append(("wake_up", tuple(tags) if tags else None))

    def reset_prefix_cache(self):
        self.calls.append(("reset_prefix_cache",))

    def generate(self, prompts, sampling_params, use_tqdm):
        self.calls.append(("generate", len(prompts)))
        self.params = sampling_params
        outs = []
        for i, p in enumerate(prompts):
            ids = [65 + i, 66, 257] if i % 2 == 0 else [67, 68]
            lp = [{t: types.SimpleNamespace(logprob=-0.5 * (k + 1))} for k, t in enumerate(ids)]
            o = types.SimpleNamespace(token_ids=ids, logprobs=lp, finish_reason="stop" if i % 2 == 0 else "length",
                                      stop_reason="</a>" if i == 2 else None)
            outs.append(types.SimpleNamespace(prompt_token_ids=p["prompt_token_ids"], outputs=[o]))
        return outs


def make_policy():
    p = VLLMPolicy.__new__(VLLMPolicy)
    p.model = TinyGPT(SMALL["nLayer"], SMALL["nHead"], SMALL["dModel"], SMALL["contextLength"])
    p.llm = FakeVLLMEngine(p.model)
    p.vllm = types.SimpleNamespace(SamplingParams=lambda **kw: kw)
    p.sleep_mode, p.asleep, p.stale = True, True, False
    p.gen_model = None
    return p


def request(**kw):
    base = {"temperature": 1.0, "topP": 0.9, "topK": -1, "maxTokens": 16, "stop": [], "seed": None}
    base.update(kw)
    return base


class VLLMGlueTest(unittest.TestCase):
    def test_wakes_generates_and_sleeps_without_a_sync_when_weights_are_current(self):
        p = make_policy()
        seqs = p._generate([[1, 2], [3], [4, 5, 6]], request(seed=7, stop=["</a>"]), torch.Generator())
        self.assertEqual(p.llm.calls, [("wake_up", None), ("generate", 3), ("sleep", 1)])
        self.assertEqual([s.tokens for s in seqs], [[65, 66, 257], [67, 68], [67, 66, 257]])
        self.assertEqual([s.finish for s in seqs], ["stop", "length", "stop"])
        self.assertEqual([s.stop_string for s in seqs], [None, None, "</a>"])
        self.assertEqual(seqs[0].logprobs, [-0.5, -1.0, -1.5])
        self.assertEqual([sp["seed"] for sp in p.llm.params], [7 * 1000003 + r for r in range(3)])
        self.assertEqual(p.llm.params[0]["stop"], ["</a>"])
        self.assertEqual((p.llm.params[0]["top_p"], p.llm.params[0]["top_k"], p.llm.params[0]["max_tokens"]), (0.9, -1, 16))

    def test_after_an_update_weights_are_pushed_between_waking_weights_and_kv_cache(self):
        p = make_policy()
        p.after_update()
        p._generate([[1]], request(), torch.Generator().manual_seed(0))
        n_params = len(p.model.state_dict())
        self.assertEqual(p.llm.calls, [("wake_up", ("weights",)), ("load_weights", n_params), ("reset_prefix_cache",),
                                       ("wake_up", ("kv_cache",)), ("generate", 1), ("sleep", 1)])
        self.assertFalse(p.stale)
        self.assertIsNone(p.llm.params[0]["stop"])  # no stop strings: None, as vLLM expects

    def test_unseeded_requests_draw_seeds_from_the_workers_generator(self):
        a = make_policy()
        b = make_policy()
        a._generate([[1], [2]], request(), torch.Generator().manual_seed(3))
        b._generate([[1], [2]], request(), torch.Generator().manual_seed(3))
        self.assertEqual([x["seed"] for x in a.llm.params], [x["seed"] for x in b.llm.params])
        self.assertNotEqual(a.llm.params[0]["seed"], a.llm.params[1]["seed"])
