import json
import os
import unittest

from helpers import REPO

from azr_worker import protocol
from azr_worker.protocol import ProtocolError

CORPUS = os.path.join(REPO, "packages", "protocol", "src", "worker-corpus.json")


def run_entry(entry):
    if entry["schema"] == "request":
        return protocol.parse_request(json.dumps(entry["message"]))
    return protocol.validate(entry["schema"], entry["message"])


class CorpusTest(unittest.TestCase):
    """The same corpus runs through zod (packages/protocol/src/worker.test.ts); both must agree."""

    def test_agrees_with_zod_on_every_corpus_message(self):
        with open(CORPUS, encoding="utf-8") as f:
            corpus = json.load(f)
        self.assertGreater(len(corpus), 50)
        for entry in corpus:
            with self.subTest(entry["name"]):
                if entry["valid"]:
                    self.assertEqual(run_entry(entry), entry["parsed"])
                else:
                    with self.assertRaises(ProtocolError):
                        run_entry(entry)

    def test_errors_carry_the_request_id_and_name_the_field(self):
        with self.assertRaises(ProtocolError) as c:
            protocol.parse_request('{"type":"generate","id":"g7","prompts":["a"],"topP":2}')
        self.assertEqual((c.exception.code, c.exception.request_id), ("invalid", "g7"))
        self.assertIn("topP", c.exception.message)
        with self.assertRaises(ProtocolError) as c:
            protocol.parse_request('{"type":"dance","id":"d1"}')
        self.assertEqual((c.exception.code, c.exception.request_id), ("unknown-type", "d1"))
        with self.assertRaises(ProtocolError) as c:
            protocol.parse_request('{"type":"generate","id":"big","prompts":' + json.dumps([""] * 5000) + "}")
        self.assertEqual((c.exception.code, c.exception.request_id), ("oversized", "big"))
        for junk in ("not json", "[1]", "null", '{"id":"x"}', "{" * 5000):
            with self.assertRaises(ProtocolError):
                protocol.parse_request(junk)

    def test_chunks_round_trip_and_refuse_disorder_and_excess(self):
        msg = {"type": "result", "id": "g", "op": "generate", "result": {"text": "x\"y" * 3000}}
        frames = protocol.encode_frames(msg, 1000)
        self.assertGreater(len(frames), 5)
        a = protocol.ChunkAssembler()
        out = [a.push(protocol.validate("chunk", json.loads(f))) for f in frames]
        self.assertEqual(json.loads(out[-1]), msg)
        self.assertTrue(all(o is None for o in out[:-1]))
        b = protocol.ChunkAssembler()
        b.push(json.loads(frames[0]))
        with self.assertRaises(ProtocolError):
            b.push(json.loads(frames[2]))
        c = protocol.ChunkAssembler(max_chars=1500)
        with self.assertRaises(ProtocolError) as e:
            for f in frames:
                c.push(json.loads(f))
        self.assertEqual(e.exception.code, "oversized")


class FrameTest(unittest.TestCase):
    def test_a_chunked_request_is_reassembled_and_validated(self):
        request = {"type": "generate", "id": "g9", "prompts": ["p" * 300] * 20}
        a = protocol.ChunkAssembler()
        frames = protocol.encode_frames(request, 500)
        got = [protocol.parse_frame(f, a) for f in frames]
        self.assertTrue(all(g is None for g in got[:-1]))
        self.assertEqual(got[-1]["n"], 1)
        self.assertEqual(got[-1]["prompts"], request["prompts"])
        bad = protocol.encode_frames({"type": "generate", "id": "g10", "prompts": [], "pad": "x" * 600}, 500)
        b = protocol.ChunkAssembler()
        with self.assertRaises(ProtocolError) as c:
            for f in bad:
                protocol.parse_frame(f, b)
        self.assertEqual((c.exception.request_id, c.exception.code), ("g10", "invalid"))
        with self.assertRaises(ProtocolError) as c:
            protocol.parse_frame('{"type":"chunk","id":"c1","seq":"x"}', b)
        self.assertEqual(c.exception.request_id, "c1")


class WorkerMessagesTest(unittest.TestCase):
    def test_hello_matches_the_schema_before_and_after_load(self):
        from helpers import loaded_engine

        from azr_worker.engine import Engine
        from azr_worker.server import Worker
        for engine in (Engine("tiny", "."), loaded_engine()):
            w = Worker(engine, "ws://127.0.0.1:1/worker", "tok", "w1")
            hello = protocol.validate("hello", w._hello())
            self.assertEqual((hello["workerId"], hello["token"], hello["backend"]), ("w1", "tok", "tiny"))
        self.assertEqual(hello["model"], "tiny")

    def test_errors_for_bad_frames_are_schema_valid_and_keep_the_id(self):
        from azr_worker.engine import Engine
        from azr_worker.server import Worker
        w = Worker(Engine("tiny", "."), "ws://127.0.0.1:1/worker", "tok", chunk_chars=1000)

        class Wake:
            def set(self):
                pass
        w.wake = Wake()
        a = protocol.ChunkAssembler()
        for frame in ("nope", '{"type":"ping"}', '{"type":"ping","id":"p","x":1}', '{"type":"x","id":"q"}',
                      '{"type":"ping","id":"big","pad":"' + "x" * 7000 + '"}'):
            w.receive(frame, a)
        sent = [json.loads(frames[0]) for frames, _ in w.outbox]
        for m in sent:
            protocol.validate("error", m)
        self.assertEqual([(m["id"], m["code"]) for m in sent],
                         [(None, "invalid"), (None, "invalid"), ("p", "invalid"), ("q", "unknown-type"), (None, "oversized")])
