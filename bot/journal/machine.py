"""One journaled state machine, shared by orders and transfers.

A record is journaled in its initial state before anything is sent, and every
move to another state is checked against a legality rule and leaves a row in a
history table. Orders and transfers differ only in their tables, key column,
columns read back and rule, so they are one mechanism with two parameter sets.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from bot.journal.db import Db, Row
from bot.journal.errors import JournalError

S = TypeVar("S", bound=StrEnum)
S_co = TypeVar("S_co", bound=StrEnum, covariant=True)


class Stateful(Protocol[S_co]):
    """A record read back from the journal: whatever it is, it has a state."""

    @property
    def state(self) -> S_co: ...


R = TypeVar("R", bound=Stateful[Any])

Rule = Callable[[str, S, S], None]
"""``rule(key, current, new)`` raises if a record in ``current`` may not become ``new``."""


class StateMachine(Generic[R, S]):
    """Records of one kind (a table and its history table), keyed by one id column."""

    def __init__(
        self,
        db: Db,
        *,
        noun: str,
        table: str,
        history: str,
        key: str,
        columns: str,
        read: Callable[[Sequence[Any]], R],
        states: type[S],
        open_states: Collection[S],
        rule: Rule[S],
    ) -> None:
        self._db = db
        self._noun = noun
        self._table = table
        self._history = history
        self._key = key
        self._columns = columns
        self._read = read
        self._states = states
        self._open_states = tuple(open_states)
        self._rule = rule

    def record(
        self,
        key: str,
        fields: Mapping[str, object],
        initial: S,
        ts_ms: int,
        *,
        check: Callable[[], None] = lambda: None,
        **history: object,
    ) -> R:
        """Journal a new record in ``initial`` with its first history row, committed on return.

        A key journaled before is refused: that record may already be live, and
        nothing is ever sent twice. ``check`` may refuse for reasons of its own,
        inside the same transaction.
        """
        with self._db.tx():
            if self._db.exists(self._table, self._key, key):
                raise JournalError(f"{self._noun} {key} is already journaled: never resend")
            check()
            row = {**fields, "state": initial, "created_ts_ms": ts_ms, "updated_ts_ms": ts_ms}
            self._db.insert(self._table, row)
            self._db.insert(
                self._history, {self._key: key, "to_state": initial, "ts_ms": ts_ms, **history}
            )
        return self.get(key)

    def has(self, key: str) -> bool:
        """Whether a record with ``key`` was ever journaled."""
        return self._db.exists(self._table, self._key, key)

    def get(self, key: str) -> R:
        sql = f"SELECT {self._columns} FROM {self._table} WHERE {self._key} = ?"
        row = self._db.one(sql, (key,))
        if row is None:
            raise JournalError(f"{self._noun} {key} is not in the journal")
        return self._read(row)

    def mark(
        self,
        key: str,
        new_state: S,
        ts_ms: int,
        changes: Callable[[R], Mapping[str, object]],
        *,
        then: Callable[[R], None] = lambda _current: None,
        **history: object,
    ) -> R:
        """Move a record to ``new_state`` if the rule allows, with ``changes(current)``.

        A change of ``None`` keeps the stored value. Repeating the current state
        records no history row but still applies the changes. ``then(current)``
        writes what belongs with the move (an order's fills) in the same transaction:
        a crash leaves both or neither.
        """
        with self._db.tx():
            current = self.get(key)
            self._rule(key, current.state, new_state)
            values = changes(current)
            kept = "".join(f", {c} = COALESCE(?, {c})" for c in values)
            sets = f"state = ?, updated_ts_ms = ?{kept}"
            sql = f"UPDATE {self._table} SET {sets} WHERE {self._key} = ?"
            self._db.execute(sql, (new_state, ts_ms, *values.values(), key))
            if new_state is not current.state:
                move = {"from_state": current.state, "to_state": new_state, "ts_ms": ts_ms}
                self._db.insert(self._history, {self._key: key, **move, **history})
            then(current)
        return self.get(key)

    def transitions(self, key: str) -> tuple[tuple[S | None, S, int], ...]:
        """Every recorded ``(from, to, ts_ms)`` of a record, oldest first."""
        rows = self._db.query(
            f"SELECT from_state, to_state, ts_ms FROM {self._history} WHERE {self._key} = ? "
            "ORDER BY seq",
            (key,),
        )
        return tuple((self._states(f) if f else None, self._states(t), ts) for f, t, ts in rows)

    def rows(self, condition: str, params: Sequence[object] = (), *, extra: str = "") -> list[Row]:
        """Rows of the record's columns (then ``extra`` ones) matching an SQL ``condition``
        (from code only), oldest first."""
        columns = f"{self._columns}, {extra}" if extra else self._columns
        return self._db.query(
            f"SELECT {columns} FROM {self._table} WHERE {condition} "
            f"ORDER BY created_ts_ms, {self._key}",
            params,
        )

    def where(self, condition: str, params: Sequence[object] = ()) -> tuple[R, ...]:
        """Records matching an SQL ``condition`` (from code only), oldest first."""
        return tuple(self._read(r) for r in self.rows(condition, params))

    def open(self) -> tuple[R, ...]:
        """Records whose outcome is not yet final, oldest first."""
        marks = ", ".join("?" * len(self._open_states))
        return self.where(f"state IN ({marks})", self._open_states)
