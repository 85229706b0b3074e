import os
import sys
import tempfile

# The root runner discovers this directory as top level (-s DIR -t DIR): make the package importable.
WORKER_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
if WORKER_DIR not in sys.path:
    sys.path.insert(0, WORKER_DIR)

from azr_worker import protocol  # noqa: E402
from azr_worker.engine import Engine  # noqa: E402

SMALL = {"nLayer": 2, "nHead": 2, "dModel": 32, "contextLength": 64}


def req(message):
    """A request as the worker sees it: validated, defaults applied."""
    return protocol.validate("request." + message["type"], dict(message, id=message.get("id", "t")))


def loaded_engine(seed=0, lr=1e-2, data_root=None, **load):
    data_root = data_root or tempfile.mkdtemp(prefix="azr-worker-test-")
    e = Engine("tiny", data_root)
    e.handle(req({"type": "load", "model": "tiny", "tiny": SMALL, "seed": seed, "optimizer": {"lr": lr}, **load}))
    return e


def generate(e, **kw):
    out = e.handle(req({"type": "generate", "prompts": kw.pop("prompts", ["ab", "c"]), **kw}))
    protocol.validate("result.generate", out)
    return out


def params(e):
    return {k: v.detach().clone() for k, v in e.policy.model.state_dict().items()}


def tmpdir():
    return tempfile.mkdtemp(prefix="azr-worker-test-")


REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
