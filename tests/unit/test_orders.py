"""Order, fill and transfer values: validation, the §5 life cycle and deterministic client ids."""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.orders import (
    ALLOWED_TRANSITIONS,
    CLIENT_ID_LENGTH,
    TERMINAL_STATES,
    Fill,
    OrderReport,
    OrderRequest,
    OrderState,
    Side,
    TimeInForce,
    TransferId,
    TransferKind,
    TransferRequest,
    can_transition,
    check_transition,
    client_order_id,
    report_from_fills,
)

S = OrderState
CID = ClientOrderId("db-test")
VENUE = VenueId("deribit-a")
PERP = Symbol("BTC/USD:BTC")
OKX_CLORDID = re.compile(r"[A-Za-z][A-Za-z0-9]{0,31}")
"""OKX's clOrdId rule, the strictest of the four venues."""


def test_side_sign_is_the_position_change() -> None:
    """A buy adds, a sell subtracts."""
    assert (Side.BUY.sign, Side.SELL.sign) == (1, -1)


def test_request_defaults_to_ioc_market_style() -> None:
    """Without options an order is IOC, not post-only, not reduce-only, with no limit."""
    request = OrderRequest(CID, VENUE, PERP, Side.BUY, 10.0)
    assert (request.tif, request.limit_price, request.post_only, request.reduce_only) == (
        TimeInForce.IOC,
        None,
        False,
        False,
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amount": 0.0}, "amount must be a positive"),
        ({"amount": math.nan}, "amount must be a positive"),
        ({"limit_price": -1.0}, "limit_price must be a positive"),
        ({"limit_price": math.inf}, "limit_price must be a positive"),
        ({"post_only": True}, "post_only needs a GTC limit"),
        ({"client_id": ClientOrderId("")}, "client_id must not be empty"),
    ],
)
def test_bad_requests_name_the_problem(kwargs: dict[str, Any], message: str) -> None:
    """Each invalid field is refused with a message naming it."""
    fields: dict[str, Any] = {
        "client_id": CID,
        "venue": VENUE,
        "symbol": PERP,
        "side": Side.BUY,
        "amount": 10.0,
    }
    with pytest.raises(ValueError, match=message):
        OrderRequest(**(fields | kwargs))


def test_post_only_gtc_limit_is_accepted() -> None:
    """post_only is fine on a GTC limit order."""
    request = OrderRequest(CID, VENUE, PERP, Side.SELL, 10.0, 60000.0, TimeInForce.GTC, True)
    assert request.post_only


def test_the_architecture_chain_is_allowed() -> None:
    """PENDING -> SUBMITTED -> ACCEPTED -> PARTIAL -> FILLED, and the UNKNOWN detour, are legal."""
    chain = [S.PENDING, S.SUBMITTED, S.ACCEPTED, S.PARTIAL, S.FILLED]
    assert all(can_transition(a, b) for a, b in itertools.pairwise(chain))
    detour = [S.PENDING, S.UNKNOWN, S.NOT_FOUND, S.PARTIAL, S.CANCELED]
    assert all(can_transition(a, b) for a, b in itertools.pairwise(detour))


def test_terminal_states_accept_only_a_repeat() -> None:
    """FILLED, CANCELED, REJECTED and ABANDONED never change, but may be re-reported."""
    for terminal in TERMINAL_STATES:
        assert terminal.is_terminal
        assert can_transition(terminal, terminal)
        assert not any(can_transition(terminal, s) for s in S if s is not terminal)


def test_a_timeout_is_never_rejected_without_evidence_path() -> None:
    """UNKNOWN cannot go back to PENDING or SUBMITTED; only venue evidence or a give-up moves it."""
    assert not can_transition(S.UNKNOWN, S.PENDING)
    assert not can_transition(S.UNKNOWN, S.SUBMITTED)
    assert ALLOWED_TRANSITIONS[S.UNKNOWN] >= {S.ACCEPTED, S.FILLED, S.REJECTED, S.NOT_FOUND}


def test_illegal_transition_names_both_states() -> None:
    """check_transition refuses ACCEPTED -> REJECTED and lists what is allowed."""
    with pytest.raises(ValueError, match=r"accepted cannot become rejected.*allowed: canceled"):
        check_transition(S.ACCEPTED, S.REJECTED)
    assert check_transition(S.ACCEPTED, S.PARTIAL) is S.PARTIAL


def test_every_state_has_a_transition_entry() -> None:
    """The transition table covers every state."""
    assert set(ALLOWED_TRANSITIONS) == set(S)


def test_report_and_fill_invariants() -> None:
    """A FILLED report needs a filled amount; a fill needs a positive price and amount."""
    with pytest.raises(ValueError, match="filled order must have a filled amount"):
        OrderReport(CID, "o-1", PERP, S.FILLED, 0.0, None, 1)
    with pytest.raises(ValueError, match="filled_amount"):
        OrderReport(CID, "o-1", PERP, S.PARTIAL, -1.0, None, 1)
    with pytest.raises(ValueError, match="price"):
        Fill("t-1", CID, "o-1", PERP, Side.BUY, 10.0, 0.0, 0.0, Currency("BTC"), 1)


def test_transfer_requests_are_outgoing_and_positive() -> None:
    """A deposit cannot be requested, and a transfer of nothing is refused."""
    with pytest.raises(ValueError, match="deposits arrive"):
        TransferRequest(TransferId("t"), VENUE, TransferKind.DEPOSIT, Currency("BTC"), 1.0, "x")
    with pytest.raises(ValueError, match="amount"):
        TransferRequest(TransferId("t"), VENUE, TransferKind.SUBACCOUNT, Currency("BTC"), 0.0, "x")


def test_client_id_is_deterministic_and_input_sensitive() -> None:
    """The same intent gives the same id; any changed input gives another."""
    base = client_order_id("c-1", VENUE, PERP, 0)
    assert base == client_order_id("c-1", VENUE, PERP, 0)
    others = {
        client_order_id("c-2", VENUE, PERP, 0),
        client_order_id("c-1", VenueId("okx-a"), PERP, 0),
        client_order_id("c-1", VENUE, Symbol("BTC/USD:BTC-261225"), 0),
        client_order_id("c-1", VENUE, PERP, 1),
    }
    assert base not in others and len(others) == 4


def test_client_id_fields_cannot_run_into_each_other() -> None:
    """Moving characters between fields changes the id (no ambiguous concatenation)."""
    assert client_order_id("ab", VenueId("c"), PERP, 0) != client_order_id(
        "a", VenueId("bc"), PERP, 0
    )


@given(
    cycle=st.text(min_size=1, max_size=40),
    venue=st.text(max_size=20),
    symbol=st.text(max_size=40),
    seq=st.integers(min_value=0, max_value=10**9),
)
def test_client_id_fits_every_venue(cycle: str, venue: str, symbol: str, seq: int) -> None:
    """Any id is 32 alphanumerics starting with a letter: valid on OKX, Bybit, Binance, Deribit."""
    cid = client_order_id(cycle, VenueId(venue), Symbol(symbol), seq)
    assert len(cid) == CLIENT_ID_LENGTH
    assert OKX_CLORDID.fullmatch(cid)


def test_client_id_refuses_empty_cycle_and_negative_sequence() -> None:
    """An id needs a cycle and a non-negative intent sequence."""
    with pytest.raises(ValueError, match="cycle_id"):
        client_order_id("", VENUE, PERP, 0)
    with pytest.raises(ValueError, match="intent_seq"):
        client_order_id("c", VENUE, PERP, -1)


def test_report_from_fills_worked_example() -> None:
    """0.3 at 0.0695 and 0.2 at 0.0700 are 0.5 at 0.0697, PARTIAL until the venue says more."""
    btc, call = Currency("BTC"), Symbol("BTC/USD:BTC-261225-60000-C")
    fills = [
        Fill("t1", CID, "o-1", call, Side.BUY, 0.3, 0.0695, 0.0, btc, 10),
        Fill("t2", CID, "o-1", call, Side.BUY, 0.2, 0.0700, 0.0, btc, 20),
    ]
    report = report_from_fills(fills)
    assert (report.state, report.filled_amount, report.ts_ms) == (S.PARTIAL, 0.5, 20)
    assert report.average_price == pytest.approx(0.0697)
    other = Fill("t3", CID, "o-2", call, Side.BUY, 0.1, 0.07, 0.0, btc, 30)
    with pytest.raises(ValueError, match="2 different orders"):
        report_from_fills([*fills, other])
