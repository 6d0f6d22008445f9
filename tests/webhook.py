"""A webhook receiver on 127.0.0.1 for alert tests: apprise's ``json://`` posts land here.

It runs on its own thread and event loop, as a remote service would: the
daemon may block its own loop for a bounded time (the drain at stop, the send
of a crash) and must still reach it. It answers ``status`` (200, or 500 for a
failing channel) and, when ``gate`` is given, holds every request until the
test sets it (a channel that hangs).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Receiver:
    """What the receiver got: each JSON body, and how many requests arrived (held or not)."""

    url: str = ""
    """The apprise URL of the receiver (``json://127.0.0.1:PORT/hook``)."""
    bodies: list[dict[str, Any]] = field(default_factory=list)
    arrived: int = 0

    def messages(self) -> list[str]:
        return [str(b.get("message", "")) for b in self.bodies]


@contextmanager
def webhook(status: int = 200, gate: threading.Event | None = None) -> Iterator[Receiver]:
    """Serve the receiver on a free loopback port for the ``with`` block."""
    receiver = Receiver()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner: list[web.AppRunner] = []

    async def hook(request: web.Request) -> web.Response:
        receiver.arrived += 1
        if gate is not None:
            await loop.run_in_executor(None, gate.wait)
        receiver.bodies.append(await request.json())
        return web.Response(status=status, text="ok" if status == 200 else "broken")

    async def start() -> None:
        app = web.Application()
        app.router.add_post("/hook", hook)
        runner.append(web.AppRunner(app))
        await runner[0].setup()
        await web.TCPSite(runner[0], "127.0.0.1", 0).start()
        receiver.url = f"json://127.0.0.1:{runner[0].addresses[0][1]}/hook"
        ready.set()

    def serve() -> None:
        loop.run_until_complete(start())
        loop.run_forever()
        loop.run_until_complete(runner[0].cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="webhook", daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield receiver
    finally:
        if gate is not None:
            gate.set()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


async def eventually(ready: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Wait until ``ready()`` (delivery happens on other threads); a deadlock guard, never a
    speed check: the timeout only stops a test that would otherwise hang."""
    async with asyncio.timeout(timeout_s):
        while not ready():  # noqa: ASYNC110  (set on other threads, no event to await)
            await asyncio.sleep(0.02)
