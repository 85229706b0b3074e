import math
import os
import unittest

import torch
from helpers import SMALL, generate, loaded_engine, params, req, tmpdir

from azr_worker import protocol, training
from azr_worker.engine import Engine, OpError


class GenerateTest(unittest.TestCase):
    def test_max_tokens_counts_and_shapes(self):
        e = loaded_engine()
        out = generate(e, prompts=["ab", "c", ""], n=3, maxTokens=5, seed=1, returnTokenIds=True)
        self.assertEqual(len(out["rollouts"]), 9)
        self.assertEqual([(r["promptIndex"], r["sampleIndex"]) for r in out["rollouts"]][:4], [(0, 0), (0, 1), (0, 2), (1, 0)])
        for r in out["rollouts"]:
            self.assertLessEqual(r["completionTokens"], 5)
            self.assertEqual(len(r["tokenIds"]), r["completionTokens"])
            if r["finishReason"] == "length":
                self.assertEqual(r["completionTokens"], 5)
            else:  # the model emitted EOS
                self.assertEqual(r["tokenIds"][-1], 257)
        self.assertEqual(out["rollouts"][0]["promptTokens"], 3)  # BOS + 2 bytes
        self.assertEqual(len(e.rollouts), 9)

    def test_same_seed_same_completions_other_seed_differs(self):
        e = loaded_engine()
        a = generate(e, n=4, maxTokens=12, seed=5)
        b = generate(e, n=4, maxTokens=12, seed=5)
        c = generate(e, n=4, maxTokens=12, seed=6)
        text = lambda o: [r["text"] for r in o["rollouts"]]  # noqa: E731
        self.assertEqual(text(a), text(b))
        self.assertNotEqual(text(a), text(c))
        # without a seed the worker's RNG advances
        self.assertNotEqual(text(generate(e, n=4, maxTokens=12)), text(generate(e, n=4, maxTokens=12)))

    def test_greedy_equals_top_k_one_and_is_deterministic(self):
        e = loaded_engine()
        g1 = generate(e, temperature=0, maxTokens=10, returnTokenIds=True)
        g2 = generate(e, topK=1, maxTokens=10, seed=3, returnTokenIds=True)
        self.assertEqual([r["tokenIds"] for r in g1["rollouts"]], [r["tokenIds"] for r in g2["rollouts"]])

    def test_top_p_keeps_only_the_nucleus(self):
        logits = torch.tensor([[3.0, 2.0, 0.0, -1.0]])  # probs ~ .69 .25 .03 .01
        gen = torch.Generator().manual_seed(0)
        from azr_worker.generation import sample_next
        seen = {int(sample_next(logits, 1.0, -1, 0.9, gen)) for _ in range(300)}
        self.assertEqual(seen, {0, 1})
        seen_k = {int(sample_next(logits, 1.0, 3, 1.0, gen)) for _ in range(500)}
        self.assertEqual(seen_k, {0, 1, 2})

    def test_stop_strings_end_and_are_cut_from_the_text(self):
        e = loaded_engine(lr=3e-2)
        # teach the model to write "abcXYZ..." so the stop string is certain to appear
        e.handle(req({"type": "sft", "texts": ["abcXYZdef"] * 8, "batchSize": 8, "epochs": 60}))
        plain = generate(e, prompts=[""], temperature=0, maxTokens=9)["rollouts"][0]
        self.assertTrue(plain["text"].startswith("abcXYZ"), plain["text"])
        r = generate(e, prompts=[""], temperature=0, maxTokens=9, stop=["XY", "zz"], returnTokenIds=True)["rollouts"][0]
        self.assertEqual((r["text"], r["finishReason"], r["stopString"]), ("abc", "stop", "XY"))
        self.assertEqual(r["completionTokens"], 5)  # the tokens up to the stop string are kept for training

    def test_context_length_bounds_generation_and_long_prompts_are_refused(self):
        e = loaded_engine()
        r = generate(e, prompts=["x" * 60], maxTokens=50, temperature=0)["rollouts"][0]
        self.assertLessEqual(r["promptTokens"] + r["completionTokens"], SMALL["contextLength"])
        with self.assertRaises(OpError) as c:
            generate(e, prompts=["x" * 100])
        self.assertEqual(c.exception.code, "invalid")
        self.assertIn("prompts[0]", c.exception.message)

    def test_store_false_keeps_nothing_and_logprobs_only_when_asked(self):
        e = loaded_engine()
        out = generate(e, store=False, maxTokens=4)
        self.assertEqual(len(e.rollouts), 0)
        self.assertTrue(all(r["rolloutId"] is None and "logprobs" not in r for r in out["rollouts"]))
        out = generate(e, returnLogprobs=True, maxTokens=4)
        for r in out["rollouts"]:
            self.assertEqual(len(r["logprobs"]), r["completionTokens"])
            self.assertTrue(all(lp <= 0 for lp in r["logprobs"]))


class LossTest(unittest.TestCase):
    def test_ppo_clip_against_a_hand_computed_example(self):
        # ratios e^0.5=1.6487, e^-0.5=0.6065, 1, e^0.1=1.1052; clip to [0.8, 1.2]
        logp = torch.tensor([[0.5, -0.5, 0.0, 0.1]])
        old = torch.zeros(1, 4)
        adv = torch.tensor([[1.0, 1.0, -2.0, -2.0]])
        loss, clipped = training.ppo_token_loss(logp, old, adv, 0.2, 0.2)
        # token 0: A>0, ratio>1.2 -> clipped: -1*1.2 ; token 1: A>0, ratio<0.8 -> max(-0.6065, -0.8) = -0.6065
        # token 2: ratio 1 -> 2 ; token 3: A<0, ratio 1.1052 in range -> 2*1.1052
        want = [-1.2, -math.exp(-0.5), 2.0, 2 * math.exp(0.1)]
        for got, w in zip(loss[0].tolist(), want):
            self.assertAlmostEqual(got, w, places=5)
        self.assertEqual(clipped[0].tolist(), [True, False, False, False])
        # dual clip c=3 bounds the loss of a negative advantage with a huge ratio: min(2*e^2, 3*2) = 6
        big, _ = training.ppo_token_loss(torch.tensor([[2.0]]), torch.zeros(1, 1), torch.tensor([[-2.0]]), 0.2, 0.2, 3.0)
        self.assertAlmostEqual(float(big), 6.0, places=5)

    def test_aggregation_modes(self):
        values = torch.tensor([[1.0, 2.0, 3.0], [4.0, 0.0, 0.0]])
        mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
        self.assertAlmostEqual(float(training.aggregate(values, mask, "token-mean", 4, 2)), 10 / 4)
        self.assertAlmostEqual(float(training.aggregate(values, mask, "seq-mean-token-mean", 4, 2)), (2 + 4) / 2)
        self.assertAlmostEqual(float(training.aggregate(values, mask, "seq-mean-token-sum", 4, 2)), (6 + 4) / 2)


class TrainTest(unittest.TestCase):
    def _rollouts(self, e, seed=1):
        out = generate(e, prompts=["ab", "cd", "e", "fgh"], n=2, maxTokens=8, seed=seed)
        return [{"rolloutId": r["rolloutId"], "advantage": (i % 3) - 1.0} for i, r in enumerate(out["rollouts"])]

    def test_micro_batching_gives_the_same_update(self):
        results = []
        for micro in (1, 3, 8):
            e = loaded_engine(seed=2)
            res = e.handle(req({"type": "train", "rollouts": self._rollouts(e), "miniBatchSize": 8, "microBatchSize": micro}))
            protocol.validate("result.train", res)
            results.append((res, params(e)))
        for res, p in results[1:]:
            self.assertAlmostEqual(res["gradNorm"], results[0][0]["gradNorm"], places=4)
            for k in p:
                torch.testing.assert_close(p[k], results[0][1][k], rtol=1e-3, atol=2e-5)

    def test_gradient_checkpointing_gives_the_same_update(self):
        results = []
        for ckpt in (False, True):
            e = loaded_engine(seed=2, gradientCheckpointing=ckpt)
            res = e.handle(req({"type": "train", "rollouts": self._rollouts(e), "microBatchSize": 4}))
            results.append((res["gradNorm"], params(e)))
        self.assertAlmostEqual(results[0][0], results[1][0], places=5)
        for k in results[0][1]:
            torch.testing.assert_close(results[0][1][k], results[1][1][k], rtol=1e-4, atol=1e-6)

    def test_mini_batches_take_optimizer_steps_and_release_rollouts(self):
        e = loaded_engine()
        res = e.handle(req({"type": "train", "rollouts": self._rollouts(e), "miniBatchSize": 3, "epochs": 2}))
        self.assertEqual(res["optimizerSteps"], 6)  # ceil(8/3) = 3 per epoch
        self.assertEqual(res["step"], 6)
        self.assertEqual(len(res["gradNorms"]), 6)
        self.assertGreater(res["clipFraction"], 0.0)  # the second epoch moves ratios away from 1
        self.assertEqual(len(e.rollouts), 0)

    def test_recomputed_and_generation_logprobs_agree_on_cpu(self):
        e = loaded_engine()
        out = generate(e, keepLogprobs=True, maxTokens=6, seed=4)
        items = [(e.rollouts[r["rolloutId"]]["prompt"], e.rollouts[r["rolloutId"]]["completion"]) for r in out["rollouts"]]
        recomputed = training.recompute_logprobs(e.policy, e.policy.model, items, 4)
        for r, lp in zip(out["rollouts"], recomputed):
            torch.testing.assert_close(lp, e.rollouts[r["rolloutId"]]["logprobs"], rtol=1e-4, atol=1e-4)
        ids = [{"rolloutId": r["rolloutId"], "advantage": 1.0} for r in out["rollouts"]]
        res = e.handle(req({"type": "train", "rollouts": ids, "oldLogprobs": "generation"}))
        self.assertLess(abs(res["approxKl"]), 1e-4)

    def test_positive_advantage_raises_the_rollouts_logprob(self):
        e = loaded_engine(lr=1e-2)
        out = generate(e, prompts=["q"], maxTokens=8, seed=9, release=None) if False else generate(e, prompts=["q"], maxTokens=8, seed=9)
        rid = out["rollouts"][0]["rolloutId"]
        item = [(e.rollouts[rid]["prompt"], e.rollouts[rid]["completion"])]
        before = training.recompute_logprobs(e.policy, e.policy.model, item, 1)[0].sum()
        e.handle(req({"type": "train", "rollouts": [{"rolloutId": rid, "advantage": 1.0}]}))
        after = training.recompute_logprobs(e.policy, e.policy.model, item, 1)[0].sum()
        self.assertGreater(float(after), float(before))

    def test_kl_needs_a_reference_model_and_is_zero_before_any_update(self):
        e = loaded_engine()
        with self.assertRaises(OpError) as c:
            e.handle(req({"type": "train", "rollouts": self._rollouts(e), "klCoef": 0.1}))
        self.assertEqual(c.exception.code, "failed-precondition")
        e = loaded_engine(referenceModel=True)
        res = e.handle(req({"type": "train", "rollouts": self._rollouts(e), "klCoef": 0.1, "miniBatchSize": 4}))
        self.assertGreater(res["klLoss"], 0.0)  # the second mini-batch sees a moved policy

    def test_entropy_bonus_raises_the_entropy(self):
        after = []
        for coef in (0.0, 1.0):
            e = loaded_engine(seed=2, lr=3e-2)
            e.handle(req({"type": "sft", "texts": ["abcabcabc"] * 4, "epochs": 10}))  # far from uniform
            e.optimizer = torch.optim.SGD(e.policy.model.parameters(), lr=0.1)  # plain gradient steps
            out = generate(e, prompts=["ab", "cd", "e", "fgh"], n=2, maxTokens=8, seed=1)
            zero = [{"rolloutId": r["rolloutId"], "advantage": 0.0} for r in out["rollouts"]]
            before = e.handle(req({"type": "train", "rollouts": zero, "entropyCoef": coef, "release": False}))["entropy"]
            after.append(e.handle(req({"type": "train", "rollouts": zero, "entropyCoef": coef}))["entropy"] - before)
        self.assertAlmostEqual(after[0], 0.0, places=6)  # zero advantages, no bonus: no change
        self.assertGreater(after[1], 1e-3)

    def test_unknown_ids_and_duplicate_ids_are_refused(self):
        e = loaded_engine()
        ro = self._rollouts(e)
        with self.assertRaises(OpError) as c:
            e.handle(req({"type": "train", "rollouts": ro + [{"rolloutId": "r999", "advantage": 1}]}))
        self.assertEqual(c.exception.code, "not-found")
        with self.assertRaises(OpError):
            e.handle(req({"type": "train", "rollouts": ro + ro[:1]}))
        self.assertEqual(len(e.rollouts), len(ro))  # nothing was consumed

    def test_sft_lowers_the_loss_on_a_small_corpus(self):
        e = loaded_engine(lr=1e-2)
        corpus = ["def f(x):\n    return x + 1\n", "def f(a, b):\n    return a * b\n", "print('hello world')\n"]
        res = e.handle(req({"type": "sft", "texts": corpus, "batchSize": 3, "epochs": 40}))
        protocol.validate("result.sft", res)
        self.assertEqual(len(res["losses"]), 40)
        self.assertLess(sum(res["losses"][-5:]) / 5, 0.5 * sum(res["losses"][:5]) / 5)


class CheckpointTest(unittest.TestCase):
    def test_restore_makes_the_same_next_update(self):
        root = tmpdir()
        a = loaded_engine(seed=3, data_root=root)
        a.handle(req({"type": "train", "rollouts": [{"rolloutId": r["rolloutId"], "advantage": 1.0}
                                                    for r in generate(a, n=2, maxTokens=6)["rollouts"]]}))
        saved = a.handle(req({"type": "save", "path": "ckpt/one"}))
        self.assertGreater(saved["bytes"], 0)
        b = Engine("tiny", root)
        self.assertEqual(b.handle(req({"type": "restore", "path": "ckpt/one"}))["step"], 1)

        def next_update(e):  # unseeded generation: the restored RNG must match too
            out = generate(e, n=2, maxTokens=6)
            res = e.handle(req({"type": "train", "rollouts": [{"rolloutId": r["rolloutId"], "advantage": 0.5}
                                                              for r in out["rollouts"]]}))
            return [r["text"] for r in out["rollouts"]], res, params(e)

        ta, ra, pa = next_update(a)
        tb, rb, pb = next_update(b)
        self.assertEqual(ta, tb)
        self.assertEqual((ra["loss"], ra["gradNorm"], ra["step"]), (rb["loss"], rb["gradNorm"], rb["step"]))
        for k in pa:
            self.assertTrue(torch.equal(pa[k], pb[k]), k)

    def test_paths_are_confined_to_the_data_root(self):
        e = loaded_engine()
        for bad in ("/etc/x", "../x", "a/../../x"):
            with self.assertRaises(OpError) as c:
                e.handle(req({"type": "save", "path": bad}))
            self.assertEqual(c.exception.code, "forbidden")
        os.symlink("/tmp", os.path.join(e.data_root, "escape"))
        with self.assertRaises(OpError):
            e.handle(req({"type": "save", "path": "escape/x"}))
        with self.assertRaises(OpError) as c:
            e.handle(req({"type": "restore", "path": "nothing-here"}))
        self.assertEqual(c.exception.code, "not-found")


class StateTest(unittest.TestCase):
    def test_requests_before_load_and_release(self):
        e = Engine("tiny", tmpdir())
        with self.assertRaises(OpError) as c:
            e.handle(req({"type": "generate", "prompts": ["a"]}))
        self.assertEqual(c.exception.code, "not-loaded")
        e = loaded_engine()
        out = generate(e, n=3)
        ids = [r["rolloutId"] for r in out["rollouts"]]
        self.assertEqual(e.handle(req({"type": "release", "rolloutIds": ids[:2] + ["nope"]})), {"released": 2, "remaining": 4})
        self.assertEqual(e.handle(req({"type": "release", "all": True})), {"released": 4, "remaining": 0})
        stats = e.handle(req({"type": "stats"}))
        protocol.validate("result.stats", stats)
        self.assertEqual(e.handle(req({"type": "tokenize", "texts": ["hé"]})), {"ids": [[104, 195, 169]]})
        self.assertEqual(e.handle(req({"type": "countTokens", "texts": ["hé", ""]})), {"counts": [3, 0]})

    def test_a_failed_load_leaves_no_model(self):
        e = loaded_engine()
        with self.assertRaises(OpError) as c:
            e.handle(req({"type": "load", "model": "tiny", "tiny": SMALL, "checkpoint": "missing"}))
        self.assertEqual(c.exception.code, "not-found")
        with self.assertRaises(OpError) as c:
            e.handle(req({"type": "generate", "prompts": ["a"]}))
        self.assertEqual(c.exception.code, "not-loaded")

    def test_load_from_a_checkpoint(self):
        root = tmpdir()
        a = loaded_engine(data_root=root, seed=8)
        a.handle(req({"type": "save", "path": "c"}))
        b = Engine("tiny", root)
        self.assertEqual(b.handle(req({"type": "load", "model": "tiny", "checkpoint": "c"}))["step"], 0)
        for k, v in params(a).items():
            self.assertTrue(torch.equal(v, params(b)[k]))
        with self.assertRaises(OpError) as c:
            b.handle(req({"type": "load", "model": "tiny", "tiny": dict(SMALL, dModel=64), "checkpoint": "c"}))
        self.assertEqual(c.exception.code, "invalid")

    def test_remote_code_needs_the_administrators_permission(self):
        e = Engine("tiny", tmpdir())
        with self.assertRaises(OpError) as c:
            e.handle(req({"type": "load", "model": "tiny", "trustRemoteCode": True}))
        self.assertEqual(c.exception.code, "forbidden")

    def test_missing_backend_dependency_is_named(self):
        try:
            import transformers  # noqa: F401
            self.skipTest("transformers is installed here")
        except ImportError:
            pass
        root = tmpdir()
        os.makedirs(os.path.join(root, "m"))
        e = Engine("hf", root)
        with self.assertRaises(OpError) as c:
            e.handle(req({"type": "load", "model": "m"}))
        self.assertEqual(c.exception.code, "backend-unavailable")
        self.assertIn("transformers", c.exception.message)
