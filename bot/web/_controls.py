"""The operator's actions the dashboard may take, as the composition layer provides them.

``bot/web`` sits below ``bot/app``: the trading-state and plan back-ends live in
:mod:`bot.app.operator` (the same ones ``deltabot halt`` and ``deltabot
collateral approve`` use), so the app hands them in as plain callables. Each
takes the journal-ready reason (or the plan id) and returns the line to show;
:class:`ControlRefusedError` carries a refusal the operator should read (a plan
already approved, a journal that cannot be written).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


class ControlRefusedError(Exception):
    """The back-end refused the action; the message says why, for the operator."""


@dataclass(frozen=True, slots=True)
class Controls:
    """halt / reduce / resume take a reason, approve a plan id, approve_option_hedge an
    option-hedge proposal id; each returns what it did."""

    halt: Callable[[str], str]
    reduce: Callable[[str], str]
    resume: Callable[[str], str]
    approve: Callable[[str], str]
    approve_option_hedge: Callable[[str], str]
