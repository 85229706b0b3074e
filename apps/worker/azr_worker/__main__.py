"""Entry point:  python3 -m azr_worker --url ws://127.0.0.1:PORT/worker --backend tiny --data-root DIR

The token is read from the environment (AZR_WORKER_TOKEN), never from the command line. Launched
with torchrun (`python3 -m torch.distributed.run --nproc_per_node N -m azr_worker ...`), rank 0
talks to the control plane and forwards every request to the other ranks; all ranks run it
(data-parallel training with DDP, generation sharded across ranks)."""
import argparse
import asyncio
import datetime
import logging
import os
import sys

import torch

from .engine import Engine, OpError
from .training import DistInfo


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="azr_worker", description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=os.environ.get("AZR_WORKER_URL"), help="control plane WebSocket URL")
    ap.add_argument("--backend", default=os.environ.get("AZR_WORKER_BACKEND", "tiny"), choices=["tiny", "hf", "vllm"])
    ap.add_argument("--data-root", default=os.environ.get("AZR_WORKER_DATA_ROOT", "."),
                    help="models and checkpoints are confined to this directory")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    ap.add_argument("--worker-id", default=os.environ.get("AZR_WORKER_ID"))
    ap.add_argument("--grace", type=float, default=float(os.environ.get("AZR_WORKER_GRACE", "30")),
                    help="seconds without a control plane before exiting")
    ap.add_argument("--heartbeat", type=float, default=5.0)
    ap.add_argument("--exit-with-parent", action="store_true", help="exit when the parent process dies")
    ap.add_argument("--allow-remote-code", action="store_true", help="let `load` set trust_remote_code (hf/vllm)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--gen-batch-size", type=int, default=256)
    ap.add_argument("--parallel", choices=["ddp", "fsdp"], default="ddp",
                    help="with several processes: replicate the model (ddp) or shard it (fsdp, torch >= 2.6)")
    ap.add_argument("--chunk-chars", type=int, default=None)
    ap.add_argument("--log-level", default="INFO")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s worker %(levelname)s %(message)s")
    if not args.url:
        sys.exit("azr_worker: --url (or AZR_WORKER_URL) is required")
    if args.threads:
        torch.set_num_threads(args.threads)
    parent = os.getppid() if args.exit_with_parent else None
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if world > 1:
        import torch.distributed as dist
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if device.startswith("cuda"):
            local = int(os.environ.get("LOCAL_RANK", "0"))
            torch.cuda.set_device(local)
            device = f"cuda:{local}"
        dist.init_process_group(backend, timeout=datetime.timedelta(days=7))
    engine = Engine(args.backend, args.data_root, device, args.allow_remote_code, DistInfo(rank, world, mode=args.parallel),
                    args.gen_batch_size)
    if rank != 0:
        code = follow(engine)
    else:
        from .server import Worker
        token = os.environ.get("AZR_WORKER_TOKEN", "")
        broadcast = _broadcaster() if world > 1 else None
        worker = Worker(engine, args.url, token, args.worker_id, args.grace, args.heartbeat, parent,
                        args.chunk_chars, broadcast)
        code = asyncio.run(worker.run())
        if broadcast is not None:
            broadcast({"type": "shutdown", "id": "exit"})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # do not wait on a busy engine thread


def _broadcaster():
    import torch.distributed as dist

    def send(req):
        dist.broadcast_object_list([req], src=0)
    return send


def follow(engine):
    """Ranks > 0: receive each request from rank 0 and run it alongside."""
    import torch.distributed as dist
    while True:
        box = [None]
        dist.broadcast_object_list(box, src=0)
        req = box[0]
        if req["type"] == "shutdown":
            return 0
        try:
            engine.handle(req)
        except OpError:
            pass  # rank 0 reports it
        except Exception:
            logging.exception("rank %d: request %s failed", engine.dist.rank, req.get("id"))


if __name__ == "__main__":
    main()
