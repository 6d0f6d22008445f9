"""Absurd position sizes and order amounts are refused where they enter: at config load, and
at the emulator's edge with Deribit's invalid_amount, never as a traceback inside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from bot.domain.units import MAX_AMOUNT
from bot.sim.errors import INVALID_AMOUNT, SimError
from bot.sim.spec import PositionSpec
from tests.unit.test_sim_exchange import world

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


@pytest.mark.parametrize("size", ["1e308", "-1e13"])
def test_a_book_position_beyond_the_documented_range_is_refused_at_load(
    tmp_path: Path, size: str
) -> None:
    """[[sim.book]] size beyond ±1e12 is a config problem at that entry's size."""
    text = EXAMPLE.read_text()
    assert "size = -5.0\n" in text
    path = tmp_path / "config.toml"
    path.write_text(text.replace("size = -5.0\n", f"size = {size}\n", 1))
    with pytest.raises(ConfigError) as refused:
        load_config(path, {})
    [(key, message)] = refused.value.errors
    assert key == "sim.book[0].size" and "1000000000000" in message


def test_the_largest_documented_size_still_loads(tmp_path: Path) -> None:
    """A position of exactly -1e12 is inside the range."""
    path = tmp_path / "config.toml"
    path.write_text(EXAMPLE.read_text().replace("size = -5.0\n", "size = -1e12\n", 1))
    assert load_config(path, {}).sim is not None


@pytest.mark.parametrize("size", [1e308, -1e13, float("inf"), float("nan")])
def test_the_emulator_refuses_an_absurd_initial_position(size: float) -> None:
    """An initial position beyond ±1e12 (or not finite) is refused when the exchange is
    specified, naming the instrument, not priced into an infinity on every read."""
    with pytest.raises(ValueError, match=r"position BTC-PERPETUAL: size must be at most 1e\+12"):
        PositionSpec("BTC-PERPETUAL", size)


@pytest.mark.parametrize("amount", [MAX_AMOUNT * 10, 1e308])
def test_the_emulator_refuses_an_absurd_order_amount_with_invalid_amount(amount: float) -> None:
    """An order beyond 1e12 is Deribit's 10021 invalid_amount naming the amount and the limit;
    nothing is booked."""
    _, _, exchange = world()
    with pytest.raises(SimError) as refused:
        exchange.place_order(
            1, direction="sell", instrument_name="BTC-PERPETUAL", amount=amount, type="market"
        )
    assert refused.value.code == INVALID_AMOUNT
    assert refused.value.data == {"param": "amount", "reason": "at most 1e+12"}
    assert exchange.order_log() == []
