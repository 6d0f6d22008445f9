"""Transfers between (sub-)accounts, withdrawals and deposits across simulated exchanges."""

import dataclasses

import pytest

from bot.clock import ManualClock
from bot.sim.errors import SimError
from bot.sim.exchange import SimExchange
from bot.sim.market import MarketModel
from bot.sim.network import SimNetwork
from bot.sim.spec import AccountSpec, ExchangeSpec, WalletSpec

T0 = 1_767_254_400_000
MIN = 60_000
MAIN = AccountSpec(1, "main", "k-main", "s-main", {"BTC": 2.0, "USDC": 1_000.0})
SUB = AccountSpec(2, "sub", "k-sub", "s-sub", {"BTC": 0.5})
WALLET = WalletSpec(
    withdrawal_fee={"BTC": 0.0001},
    withdrawal_min={"BTC": 0.001},
    confirm_delay_ms=MIN,
    network_delay_ms=30 * MIN,
)


def pair() -> tuple[ManualClock, SimExchange, SimExchange]:
    """Two exchanges on one clock and one network: venue A (main + sub) and venue B."""
    clk = ManualClock(T0)
    net = SimNetwork()
    base = ExchangeSpec.default("a", T0, underlyings=("BTC",), accounts=(MAIN, SUB))
    cfg_a = dataclasses.replace(base, wallet=WALLET)
    cfg_b = ExchangeSpec.default(
        "b",
        T0,
        underlyings=("BTC",),
        accounts=(AccountSpec(7, "b-main", "k-b", "s-b", {"BTC": 0.0}),),
    )
    a = SimExchange(MarketModel.default(T0, underlyings=("BTC",)), clk, cfg_a, net)
    b = SimExchange(MarketModel.default(T0, underlyings=("BTC",)), clk, cfg_b, net)
    return clk, a, b


def test_transfer_between_main_and_sub_is_instant() -> None:
    """0.3 BTC main -> sub moves both balances at once; the view names the other side."""
    _, a, _ = pair()
    t = a.transfer_to_subaccount(1, "BTC", 0.3, destination=2)
    assert (t.amount, t.state, t.other_side, t.direction) == (0.3, "confirmed", "sub", "payment")
    assert a.account_summary(1, "BTC").balance == pytest.approx(1.7)
    assert a.account_summary(2, "BTC").balance == pytest.approx(0.8)
    subs = a.subaccounts(1)
    assert [(s.id, s.type) for s in subs] == [(1, "main"), (2, "subaccount")]
    assert subs[1].portfolio["btc"]["balance"] == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("amount", "destination", "code", "param"),
    [
        (5.0, 2, 10009, "amount"),
        (-1.0, 2, 11050, "amount"),
        (float("nan"), 2, 11050, "amount"),
        (0.1, 99, 12100, "destination"),
        (0.1, 1, 12100, "destination"),
    ],
)
def test_bad_transfers_are_refused(amount: float, destination: int, code: int, param: str) -> None:
    """Too much, non-positive, NaN, unknown or self destination: refused, balances unchanged."""
    _, a, _ = pair()
    with pytest.raises(SimError) as err:
        a.transfer_to_subaccount(1, "BTC", amount, destination=destination)
    assert err.value.code == code
    assert err.value.data is not None and err.value.data["param"] == param
    assert a.account_summary(1, "BTC").balance == 2.0


def test_withdrawal_lands_at_the_other_exchange_after_the_delay() -> None:
    """unconfirmed -> confirmed (1 min) -> completed (+30 min); B credits amount - fee then."""
    clk, a, b = pair()
    address = b.deposit_address(7, "BTC").address
    w = a.withdraw(1, "BTC", address, 0.5)
    assert (w.state, w.fee) == ("unconfirmed", 0.0001)
    assert a.account_summary(1, "BTC").balance == pytest.approx(1.5)
    clk.advance(MIN)
    assert a.withdrawals(1, "BTC")[0].state == "confirmed"
    assert [d.state for d in b.deposits(7, "BTC")] == ["pending"]
    assert b.account_summary(7, "BTC").balance == 0.0
    clk.advance(30 * MIN - 1)
    assert b.account_summary(7, "BTC").balance == 0.0
    clk.advance(1)
    assert b.account_summary(7, "BTC").balance == pytest.approx(0.4999)
    [dep] = b.deposits(7, "BTC")
    assert (dep.state, dep.received_timestamp) == ("completed", T0 + 31 * MIN)
    assert a.withdrawals(1, "BTC")[0].state == "completed"


def test_withdrawal_refusals() -> None:
    """Unknown address, wrong currency, below minimum, from a sub-account: each refused."""
    _, a, b = pair()
    with pytest.raises(SimError, match="invalid_addr") as err:
        a.withdraw(1, "BTC", "nowhere", 0.5)
    assert err.value.code == 11090
    with pytest.raises(SimError) as err:
        a.withdraw(1, "BTC", b.deposit_address(7, "USDC").address, 0.5)
    assert err.value.code == 11091
    with pytest.raises(SimError) as err:
        a.withdraw(1, "BTC", b.deposit_address(7, "BTC").address, 0.0005)
    assert err.value.data == {
        "param": "amount",
        "reason": "below the minimum withdrawal of 0.001 BTC",
    }
    with pytest.raises(SimError) as err:
        a.withdraw(2, "BTC", b.deposit_address(7, "BTC").address, 0.1)
    assert err.value.code == 13012
    assert a.withdrawals(1, "BTC") == []
