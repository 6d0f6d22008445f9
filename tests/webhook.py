"""A webhook receiver on 127.0.0.1 for alert tests: apprise's ``json://`` posts land here.

It answers ``status`` (200, or 500 for a failing channel) and, when ``gate`` is
given, holds every request until the test sets it (a channel that hangs).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Receiver:
    """What the receiver got: each JSON body, and how many requests are held at the gate."""

    url: str
    """The apprise URL of the receiver (``json://127.0.0.1:PORT/hook``)."""
    bodies: list[dict[str, Any]] = field(default_factory=list)
    arrived: int = 0

    def messages(self) -> list[str]:
        return [str(b.get("message", "")) for b in self.bodies]

    async def wait_for(self, count: int, timeout_s: float = 20.0) -> None:
        """Until ``count`` bodies arrived (a deadlock guard, never a speed check)."""
        async with asyncio.timeout(timeout_s):
            while len(self.bodies) < count:
                await asyncio.sleep(0.01)


@asynccontextmanager
async def webhook(status: int = 200, gate: asyncio.Event | None = None) -> AsyncIterator[Receiver]:
    """Serve the receiver on a free loopback port for the ``async with`` block."""
    receiver = Receiver(url="")

    async def hook(request: web.Request) -> web.Response:
        receiver.arrived += 1
        if gate is not None:
            await gate.wait()
        receiver.bodies.append(await request.json())
        return web.Response(status=status, text="ok" if status == 200 else "broken")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"json://127.0.0.1:{port}/hook"
    try:
        yield receiver
    finally:
        if gate is not None:
            gate.set()
        await runner.cleanup()
