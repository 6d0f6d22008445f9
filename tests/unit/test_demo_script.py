"""The demo's script holds only the events inside the run, and the strategy text its title."""

from __future__ import annotations

from pathlib import Path

from bot.app.demo import strategy_text
from bot.app.demo_config import demo_script
from bot.config.loader import load_config
from bot.sim.market import JumpEvent

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_a_short_run_has_only_the_events_inside_it() -> None:
    """Four hours hold the BTC jump at 3 h; the ETH events at 7 h are neither run nor listed."""
    config = load_config(EXAMPLE, {})
    short = demo_script(config, hours=4.0, speed=1440.0)
    assert [(type(e), e.underlying) for e in short.events] == [(JumpEvent, "BTC")]
    assert len(demo_script(config, hours=12.0, speed=1440.0).events) == 3


def test_strategy_text_names_the_parameters_set_and_the_cost() -> None:
    """The title's strategy text is the name, the parameters the config sets and cost_frac."""
    text = strategy_text(load_config(EXAMPLE, {}))
    assert text.startswith("band(") and "width_up=5000" in text
    assert text.endswith("cost_frac 0.0007")
