"""`deltabot backtest --option-hedge` as a subprocess: the run with the option-hedge loop and
the same paths without it, both attributed; limits from flags or the config; bad flags."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.e2e.test_backtest_cli import deltabot

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
SHORT_CALLS = ["--option", "call:100:0.25:-10", "--vol", "0.5", "--fee", "0.0005"]
RUN = ["--strategy", "interval", "--param", "interval_s=3600", "--paths", "400", "--steps", "60",
       "--seed", "4", "--scheduler", "serial"]  # fmt: skip
HEDGE = ["--option-hedge", "--hard-vega", "0.5", "--soft-vega", "0.3", "--hedge-tenor", "120"]


def _attributed(summary: dict[str, object]) -> float:
    """The sum of a summary's mean attribution terms (cost already negative)."""
    terms = summary["attribution_usd_mean"]
    assert isinstance(terms, dict)
    return math.fsum(terms.values())


def test_json_has_both_attributions_each_adding_up_to_its_pnl() -> None:
    """With and without the loop, every strategy's mean attribution sums to its mean P&L; the
    same premium says the same paths; the loop paid something and cut the gamma P&L."""
    done = deltabot(*SHORT_CALLS, *RUN, *HEDGE, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    (with_,) = report["strategies"]
    oh = report["option_hedge"]
    (without,) = oh["without"]["strategies"]
    for s in (with_, without):
        assert _attributed(s) == pytest.approx(s["pnl_mean_usd"], rel=1e-9, abs=1e-9)
    assert with_["premium_usd"] == without["premium_usd"]
    assert oh["cost_usd_mean"] > 0 and (oh["hard_vega_usd_per_volpt"], oh["lot_coin"]) == (0.5, 0.1)
    gamma = [abs(s["attribution_usd_mean"]["gamma"]) for s in (with_, without)]
    assert gamma[0] < gamma[1]


def test_the_text_report_shows_the_loop_and_the_run_without_it() -> None:
    """The header names the limits and the cost per path; each strategy adds its figures on
    the same paths without the loop."""
    done = deltabot(*SHORT_CALLS, *RUN, *HEDGE)
    assert done.returncode == 0, done.stderr
    assert "option hedge: |standardised vega| past 0.5 USD/volpt back to 0.3" in done.stdout
    assert done.stdout.count("without option hedge (same paths)") == 1
    assert done.stdout.count("attribution  ") == 2


def test_the_limits_come_from_the_configs_greek_limits(tmp_path: Path) -> None:
    """With a daemon config as --book and no --hard-vega, its [greek_limits] BTC limit on
    bucket all is the loop's."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for key, before, after in (("soft", 20000, 50), ("hard", 40000, 100)):
        name = f"{key}_vega_usd_per_volpt"
        text = text.replace(f"{name} = {before}.0", f"{name} = {after}.0")
    config = tmp_path / "c.toml"
    config.write_text(text, encoding="utf-8")
    done = deltabot("--book", str(config), *RUN, "--paths", "100", "--option-hedge", "--json")
    assert done.returncode == 0, done.stderr
    oh = json.loads(done.stdout)["option_hedge"]
    assert (oh["hard_vega_usd_per_volpt"], oh["soft_vega_usd_per_volpt"]) == (100.0, 50.0)
    assert oh["cost_usd_mean"] > 0


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--hard-vega", "1"], "--hard-vega: only with --option-hedge"),
        (["--option-hedge"], "--option-hedge needs --hard-vega (and --soft-vega), or a daemon"),
        (["--option-hedge", "--soft-vega", "2", "--hard-vega", "1"], "--soft-vega 2 is above"),
        ([*HEDGE, "--hedge-lot", "0"], "--hedge-lot 0: must be a finite number > 0"),
        (["--option-hedge", "--hard-vega", "nan"], "--hard-vega nan: must be a finite number"),
        ([*HEDGE, "--grid", "sweep.toml"], "--option-hedge runs one book, not a --grid"),
        ([*HEDGE, "--hedge-cost", "-1"], "--hedge-cost -1: must be a finite number >= 0"),
    ],
)
def test_bad_option_hedge_flags_are_one_error_line(flags: list[str], message: str) -> None:
    """Each bad flag exits 2 with one line naming it, never a traceback."""
    done = deltabot(*SHORT_CALLS, *RUN, *flags)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("deltabot backtest: error: ") and message in line
