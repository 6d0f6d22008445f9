"""The halt marker: a file beside the journal that halts trading when the journal cannot.

``deltabot halt`` on a journal it cannot read or write, and the daemon when
its journal fails the integrity check, write ``<journal>.halt`` (JSON: reason,
who set it, when) atomically. While it exists the trading state is HALTED with
its reason whatever the journal says (:meth:`bot.journal.state.StateStore.trading_state`),
so ``deltabot run`` starts halted and a running daemon halts from its next
cycle. ``deltabot resume`` removes it once the journal is readable again. A
marker that cannot be read still halts.
"""

from __future__ import annotations

import json
from pathlib import Path

from bot.domain.trading_state import SetBy, TradingMode, TradingState
from bot.journal.errors import JournalError
from bot.ops.files import write_atomically


def halt_marker_path(journal_path: Path) -> Path:
    """``<journal>.halt``, beside the journal."""
    return journal_path.with_name(journal_path.name + ".halt")


def write_halt_marker(journal_path: Path, reason: str, set_by: SetBy, ts_ms: int) -> Path:
    """Halt trading on ``journal_path`` by the marker beside it; returns the marker's path.

    JournalError naming the marker if it cannot be written.
    """
    state = TradingState(TradingMode.HALTED, reason, set_by, ts_ms)
    marker = halt_marker_path(journal_path)
    doc = {
        "mode": state.mode.value,
        "reason": state.reason,
        "set_by": state.set_by.value,
        "ts_ms": state.ts_ms,
        "journal": str(journal_path),
    }
    try:
        write_atomically(marker, (json.dumps(doc, indent=2) + "\n").encode())
    except OSError as exc:
        raise JournalError(f"cannot write the halt marker {marker}: {exc.strerror}") from exc
    return marker


def read_halt_marker(journal_path: Path) -> TradingState | None:
    """The halt the marker beside ``journal_path`` records, or None if there is none."""
    marker = halt_marker_path(journal_path)
    try:
        doc = json.loads(marker.read_bytes())
        return TradingState(
            TradingMode.HALTED, str(doc["reason"]), SetBy(doc["set_by"]), int(doc["ts_ms"])
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        reason = f"halt marker {marker} cannot be read ({exc}): halted until it is removed"
        return TradingState(TradingMode.HALTED, reason, SetBy.AUTOMATIC, 0)


def remove_halt_marker(journal_path: Path) -> Path | None:
    """Remove the marker beside ``journal_path``; its path, or None if there was none."""
    marker = halt_marker_path(journal_path)
    try:
        marker.unlink()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise JournalError(f"cannot remove the halt marker {marker}: {exc.strerror}") from exc
    return marker
