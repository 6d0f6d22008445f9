"""Wire ``[record]`` into the daemon: each cycle's venue reads go to the chain store.

Recording never stops hedging: a write that fails (a full disk, a store
directory gone) is logged and the buffered reads are dropped, and the daemon
carries on. The last reads are written when the daemon stops.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from functools import partial

import structlog

from bot.chain.record import ChainRecorder
from bot.chain.store import ChainStore, StoreError
from bot.config.record import RecordConfig
from bot.domain.timeunits import MS_PER_SECOND
from bot.engine.cycle_result import CycleResult

log = structlog.get_logger("deltabot.record")

OnCycle = Callable[[CycleResult], None]


def with_recording(
    config: RecordConfig, stack: AsyncExitStack, on_cycle: OnCycle | None
) -> OnCycle | None:
    """``on_cycle``, preceded by recording the cycle's reads when ``config.enabled``."""
    if not config.enabled:
        return on_cycle
    recorder = ChainRecorder(
        ChainStore(config.store), round(config.flush_interval_s * MS_PER_SECOND)
    )

    def guarded(work: Callable[[], object]) -> None:
        try:
            work()
        except (OSError, StoreError) as exc:
            log.warning("record_failed", store=str(config.store), error=str(exc))

    stack.callback(guarded, recorder.close)

    def recorded(result: CycleResult) -> None:
        if result.portfolio is not None:
            guarded(partial(recorder.record, result.portfolio))
        if on_cycle is not None:
            on_cycle(result)

    log.info("recording", store=str(config.store))
    return recorded
