"""The worker's connection to its control plane: dial with a token, say hello, serve requests one
at a time on a worker thread while the event loop keeps answering (errors, heartbeats), reconnect
after a drop, and exit when the control plane stays gone past the grace period or the parent dies."""
import asyncio
import json
import logging
import os
import signal
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import websockets

from . import protocol
from .engine import OpError, devices, versions

log = logging.getLogger("azr_worker")

REFUSED = {4000, 4001, 4002}  # close codes of a hub refusing the hello (no hello, bad token, invalid)


class Worker:
    def __init__(self, engine, url, token, worker_id=None, grace=30.0, heartbeat=5.0, parent_pid=None,
                 chunk_chars=None, broadcast=None):
        self.engine = engine
        self.url = url
        self.token = token
        self.worker_id = worker_id or uuid.uuid4().hex[:12]
        self.grace = grace
        self.heartbeat = heartbeat
        self.parent_pid = parent_pid
        self.chunk_chars = chunk_chars or protocol.LIMITS["chunkChars"]
        self.broadcast = broadcast  # DDP: forwards each request to the other ranks before serving it
        self.outbox = deque()       # [frames, next frame] per message not yet sent
        self.jobs = None
        self.ws = None
        self.busy = None
        self.stopping = False
        self.exit_code = 0
        self.said_hello = False
        self.had_session = False
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="azr-engine")

    # ------------------------------------------------------------------ sending
    def send(self, message):
        """Queues a message (its frames). Kept across a reconnect; heartbeats only while connected."""
        if message["type"] == "heartbeat" and self.ws is None:
            return
        self.outbox.append([protocol.encode_frames(message, self.chunk_chars), 0])
        self.wake.set()

    async def _flush(self):
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.outbox and self.ws is not None:
                entry = self.outbox[0]
                frames, at = entry
                try:
                    await self.ws.send(frames[at])
                except websockets.ConnectionClosed:
                    break
                entry[1] = at + 1
                if entry[1] == len(frames):
                    self.outbox.popleft()

    def error(self, rid, code, message):
        self.send({"type": "error", "id": rid, "code": code, "message": message[:4000]})

    # ------------------------------------------------------------------ serving
    def receive(self, text, assembler):
        """Validates one frame; valid requests are queued, anything else is answered with an error."""
        try:
            if len(text) > 2 * self.chunk_chars + 4096 and not text.startswith('{"type":"chunk"'):
                raise protocol.ProtocolError("oversized", f"frame of {len(text)} characters; send large messages as chunks")
            req = protocol.parse_frame(text, assembler)
        except protocol.ProtocolError as e:
            self.error(e.request_id, e.code, e.message)
            return
        if req is not None:
            self.jobs.put_nowait(req)

    async def _serve_jobs(self):
        loop = asyncio.get_running_loop()
        while True:
            req = await self.jobs.get()
            self.busy = req["id"]

            def progress(done, total, req=req):
                loop.call_soon_threadsafe(self.send, {"type": "progress", "id": req["id"], "op": req["type"],
                                                      "done": done, "total": total})
            try:
                result = await loop.run_in_executor(self.pool, self._run, req, progress)
                self.send({"type": "result", "id": req["id"], "op": req["type"], "result": result})
            except OpError as e:
                self.error(req["id"], e.code, e.message)
            except Exception as e:  # a bug or a numerical failure: report it, keep serving
                log.exception("request %s failed", req["id"])
                self.error(req["id"], "internal", f"{type(e).__name__}: {e}")
            finally:
                self.busy = None
            if req["type"] == "shutdown":
                await self._drain()
                self.stopping = True
                self.stop.set()
                return

    def _run(self, req, progress):
        if self.broadcast is not None:
            self.broadcast(req)
        return self.engine.handle(req, progress)

    async def _drain(self, timeout=5.0):
        end = time.time() + timeout
        while self.outbox and self.ws is not None and time.time() < end:
            self.wake.set()
            await asyncio.sleep(0.01)

    async def _heartbeats(self):
        while True:
            await asyncio.sleep(self.heartbeat)
            self.send({"type": "heartbeat", "busy": self.busy, "uptimeSeconds": time.time() - self.engine.started})

    async def _watch_parent(self):
        while True:
            await asyncio.sleep(0.5)
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                log.warning("parent process %s is gone; exiting", self.parent_pid)
                self.exit_code = 4
                self.stop.set()
                return

    def _hello(self):
        e = self.engine
        return {"type": "hello", "protocol": protocol.PROTOCOL_VERSION, "workerId": self.worker_id,
                "token": self.token, "backend": e.backend, "model": e.policy.name if e.policy else None,
                "devices": devices(), "memoryBytes": sum(d["memoryBytes"] for d in devices()),
                "versions": versions(), "pid": os.getpid(), "worldSize": e.dist.world, "reconnect": self.said_hello}

    async def _connection(self):
        """Dials and serves until the connection drops; returns when it does."""
        async with websockets.connect(self.url, max_size=4 * self.chunk_chars + 65536, ping_interval=10,
                                      ping_timeout=20, open_timeout=10, close_timeout=2) as ws:
            await ws.send(json.dumps(self._hello()))
            self.said_hello = True
            if self.outbox:  # a message cut by the drop is sent again whole (the peer drops partial chunks)
                self.outbox[0][1] = 0
            self.ws = ws
            self.wake.set()
            assembler = protocol.ChunkAssembler()
            log.info("connected to %s as %s", self.url, self.worker_id)
            try:
                async for frame in ws:
                    if isinstance(frame, bytes):
                        self.error(None, "invalid", "binary frames are not part of the protocol")
                        continue
                    self.receive(frame, assembler)
            finally:
                self.ws = None
                # the hub closes with 4000-4002 when it refuses the hello: that was no session
                self.had_session = ws.close_code not in REFUSED

    async def _dial_forever(self):
        gone_since = time.time()
        while True:
            self.had_session = False
            try:
                await self._connection()
                log.warning("control plane closed the connection")
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as e:
                log.warning("lost or cannot reach the control plane: %s", e)
            if self.had_session:  # the grace period counts from the end of the last accepted session
                gone_since = time.time()
            if self.stopping:
                return
            if time.time() - gone_since > self.grace:
                log.error("control plane gone for more than %.1fs; exiting", self.grace)
                self.exit_code = 3
                self.stop.set()
                return
            await asyncio.sleep(min(1.0, max(0.05, self.grace / 10)))

    async def run(self):
        self.wake = asyncio.Event()
        self.stop = asyncio.Event()
        self.jobs = asyncio.Queue()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        tasks = [asyncio.ensure_future(t) for t in
                 (self._flush(), self._serve_jobs(), self._heartbeats(), self._watch_parent(), self._dial_forever())]
        await self.stop.wait()
        for t in tasks:
            t.cancel()
        if self.ws is not None:
            await self.ws.close()
        self.pool.shutdown(wait=False, cancel_futures=True)
        return self.exit_code
