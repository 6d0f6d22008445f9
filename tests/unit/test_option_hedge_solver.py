"""The option-hedge MIP on highspy: silent in branch and bound, and a node limit said as such."""

from __future__ import annotations

import highspy
import numpy as np
import pytest

from bot.domain import highs, option_hedge_solver
from bot.domain.option_hedge import Figure, Row, propose
from bot.domain.option_hedge_solver import Program, solve
from tests.option_hedge_books import BTC, candidates


def _market_split(n: int = 24) -> Program:
    """Three random rows of 0/1 columns that must each hit half their sum: no solution, and
    branch and bound cannot prove it quickly (Cornuéjols and Dawande's market split)."""
    a = np.random.default_rng(0).integers(0, 100, (3, n)).astype(float)
    half = np.floor(a.sum(axis=1) / 2)
    return Program(a=a, lo_row=half, hi_row=half, cost=np.ones(n), lo=np.ones(n), hi=np.ones(n))


class TestSolve:
    def test_branch_and_bound_prints_nothing(
        self, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A six-option proposal that takes 11 nodes writes nothing to stdout or stderr."""
        nodes: list[int] = []
        found = highs.solution

        def counted(h: highspy.Highs) -> np.ndarray | None:
            nodes.append(h.getInfo().mip_node_count)
            return found(h)

        monkeypatch.setattr(highs, "solution", counted)
        strikes = [70_000.0, 60_000.0, 77_000.0, 51_000.0, 53_000.0, 78_000.0]
        c = candidates(
            days=[14.0, 7.0, 30.0, 30.0, 14.0, 30.0],
            strikes=strikes,
            buckets=["7-30d", "0-7d", "7-30d", "7-30d", "7-30d", "7-30d"],
            calls=[k >= 60_000.0 for k in strikes],
            cost_usd=20.0,
            cap_coin=18.0,
        )
        rows = [
            Row(BTC, "7-30d", Figure.VEGA, -2_111.0, 773.0, True),
            Row(BTC, "all", Figure.GAMMA, -87_782.0, 8_365.0, False),
        ]
        assert propose(c, rows).feasible and max(nodes) > 1
        assert capfd.readouterr() == ("", "")

    def test_a_search_stopped_at_the_node_limit_gave_up(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No solution within the node limit is reported as giving up, not as infeasible."""
        monkeypatch.setattr(option_hedge_solver, "NODE_LIMIT", 5)
        assert solve(_market_split()) == option_hedge_solver.Solution(None, gave_up=True)

    def test_a_proven_infeasible_program_did_not_give_up(self) -> None:
        """One column capped at 2 lots cannot reach a row that needs 3: infeasible, no limit."""
        one = np.ones(1)
        program = Program(
            a=np.ones((1, 1)), lo_row=3 * one, hi_row=3 * one, cost=one, lo=one, hi=2 * one
        )
        assert solve(program) == option_hedge_solver.Solution(None, gave_up=False)
