"""Kept renderings of the emulator: re-rendered when marks or trades move, exact otherwise."""

from dataclasses import asdict, replace

from bot.sim.deribit_params import to_json
from bot.sim.exchange import SimExchange
from bot.sim.order_book import best_levels, synthetic_book
from tests.unit.test_sim_exchange import world

PERP = "BTC-PERPETUAL"
AMOUNT_USD = 1_000.0


def _buy_perp(ex: SimExchange) -> None:
    ex.place_order(1, direction="buy", instrument_name=PERP, amount=AMOUNT_USD, type="market")


class TestBookSummaries:
    def test_a_second_read_in_the_same_state_is_the_first_restamped(self) -> None:
        """Within one grid step and no fill, a read repeats the values stamped with its time."""
        clk, _, ex = world()
        first = ex.book_summaries("BTC")
        clk.advance(1)
        again = ex.book_summaries("BTC")
        assert again == [replace(v, creation_timestamp=clk.now_ms()) for v in first]

    def test_a_grid_step_renders_the_new_marks(self) -> None:
        """After the world moves a step, the kept chain equals a never-read twin's chain."""
        clk, market, ex = world()
        twin_clk, _, twin = world()
        before = ex.book_summaries("BTC")
        for c in (clk, twin_clk):
            c.advance(market.step_ms)
        after = ex.book_summaries("BTC")
        assert after == twin.book_summaries("BTC")
        assert [v.mark_price for v in after] != [v.mark_price for v in before]

    def test_a_fill_renders_the_new_open_interest_and_last_price(self) -> None:
        """A fill within the step moves the perp's summary, as a never-read twin shows it."""
        _, _, ex = world()
        _, _, twin = world()
        ex.book_summaries("BTC", "future")
        _buy_perp(ex)
        _buy_perp(twin)
        (perp,) = [v for v in ex.book_summaries("BTC", "future") if v.instrument_name == PERP]
        assert perp.open_interest == AMOUNT_USD
        assert ex.book_summaries("BTC", "future") == twin.book_summaries("BTC", "future")


class TestTicker:
    def test_a_fill_renders_the_ticker_anew(self) -> None:
        """The ticker read before a fill is not served after it: the last price appears."""
        _, _, ex = world()
        assert ex.ticker(PERP).last_price is None
        _buy_perp(ex)
        assert ex.ticker(PERP).last_price is not None

    def test_a_read_later_in_the_step_carries_its_own_time(self) -> None:
        """A kept ticker is stamped with the time of each read (Deribit's ``timestamp``)."""
        clk, _, ex = world()
        ex.ticker(PERP)
        clk.advance(5)
        assert ex.ticker(PERP).timestamp == clk.now_ms()


def test_best_levels_are_the_top_of_the_synthetic_book() -> None:
    """The ticker's best bid and ask equal the whole ladder's first levels, every contract."""
    _, _, ex = world()
    spec = ex.spec.book
    for c, row in ex.live_contracts():
        top = best_levels(c, row.mark_price, spec)
        assert top == synthetic_book(c, row.mark_price, spec).top(), c.instrument_name


def test_to_json_is_asdict_without_the_deep_copy() -> None:
    """Views with nested Greeks, stats and book levels serialise as ``asdict`` does."""
    _, _, ex = world()
    views = [ex.ticker(PERP), ex.order_book(PERP, depth=3), *ex.book_summaries("BTC")[:3]]
    assert to_json(views) == [asdict(v) for v in views]
