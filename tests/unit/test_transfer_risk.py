"""Transfer gate: halt, whitelist, per-transfer and rolling-24h caps, budget of denials."""

from __future__ import annotations

import pytest

from bot.domain.ids import Currency, VenueId
from bot.domain.orders import TransferId, TransferKind, TransferRequest
from bot.domain.timeunits import MS_PER_DAY
from bot.domain.trading_state import SetBy, TradingMode, TradingState
from bot.domain.transfer_risk import (
    TransferDecision,
    TransferDenyReason,
    TransferIntent,
    TransferLedger,
    TransferLimits,
    TransferSend,
    TransferWhitelist,
    WhitelistedAddress,
    evaluate_transfers,
)

DERIBIT, USDC = VenueId("deribit-a"), Currency("USDC")
ACTIVE = TradingState(TradingMode.ACTIVE, "test", SetBy.OPERATOR, 0)
LIMITS = TransferLimits(max_transfer_usd=100.0, max_daily_transfer_usd=250.0)
WHITELIST = TransferWhitelist(
    addresses=frozenset({WhitelistedAddress(DERIBIT, USDC, "0xOK", "ERC20")}),
    sub_accounts=frozenset({(DERIBIT, "hedge")}),
)
NOW = 10 * MS_PER_DAY


def withdrawal(
    n: int, usd: float, address: str = "0xOK", network: str | None = "ERC20"
) -> TransferIntent:
    request = TransferRequest(
        TransferId(f"tr{n}"), DERIBIT, TransferKind.WITHDRAWAL, USDC, usd, address, network
    )
    return TransferIntent(request, usd)


def subaccount(n: int, usd: float, destination: str = "hedge") -> TransferIntent:
    request = TransferRequest(
        TransferId(f"ts{n}"), DERIBIT, TransferKind.SUBACCOUNT, USDC, usd, destination
    )
    return TransferIntent(request, usd)


def gate(
    *intents: TransferIntent, sends: tuple[TransferSend, ...] = (), state: TradingState = ACTIVE
) -> TransferDecision:
    return evaluate_transfers(
        intents,
        ledger=TransferLedger(sends),
        limits=LIMITS,
        whitelist=WHITELIST,
        trading_state=state,
        now_ms=NOW,
    )


def test_halted_denies_every_transfer_and_reducing_does_not() -> None:
    """HALTED blocks all transfers; REDUCING lets collateral move (that is how margin recovers)."""
    halted = TradingState(TradingMode.HALTED, "operator stop", SetBy.OPERATOR, 0)
    decision = gate(withdrawal(1, 10.0), subaccount(2, 10.0), state=halted)
    assert decision.approved == ()
    assert {d.reason for d in decision.denied} == {TransferDenyReason.HALTED}
    reducing = TradingState(TradingMode.REDUCING, "floor", SetBy.AUTOMATIC, 0)
    assert len(gate(withdrawal(1, 10.0), state=reducing).approved) == 1


@pytest.mark.parametrize(
    "intent",
    [
        withdrawal(1, 10.0, address="0xEVIL"),
        withdrawal(1, 10.0, network="TRC20"),
        withdrawal(1, 10.0, network=None),
        subaccount(1, 10.0, destination="stranger"),
    ],
)
def test_only_whitelisted_destinations_pass(intent: TransferIntent) -> None:
    """Another address, another network or an unknown sub-account is denied."""
    (denial,) = gate(intent).denied
    assert denial.reason is TransferDenyReason.NOT_WHITELISTED


def test_whitelisted_destinations_pass() -> None:
    """The exact whitelisted address and network, and a known sub-account, are approved."""
    assert len(gate(withdrawal(1, 10.0), subaccount(2, 10.0)).approved) == 2


def test_per_transfer_cap() -> None:
    """A transfer above the per-transfer cap is denied; one exactly at it passes."""
    decision = gate(withdrawal(1, 100.0), withdrawal(2, 100.01))
    assert [i.amount_usd for i in decision.approved] == [100.0]
    assert decision.denied[0].reason is TransferDenyReason.TRANSFER_CAP


def test_daily_cap_counts_the_ledger_and_this_batch() -> None:
    """Sends of the last 24 h plus earlier approvals of the batch count; a denial uses nothing."""
    sends = (TransferSend(NOW - MS_PER_DAY + 1, 100.0),)
    decision = gate(withdrawal(1, 100.0), withdrawal(2, 60.0), withdrawal(3, 50.0), sends=sends)
    assert [i.amount_usd for i in decision.approved] == [100.0, 50.0]
    assert decision.denied[0].reason is TransferDenyReason.DAILY_CAP
    assert "200.00 USD moved" in decision.denied[0].message


def test_a_send_exactly_one_day_old_no_longer_counts() -> None:
    """The window is (now - 24h, now]: a send at now - 24h has dropped out."""
    sends = (TransferSend(NOW - MS_PER_DAY, 250.0),)
    assert len(gate(withdrawal(1, 100.0), sends=sends).approved) == 1


def test_duplicate_ids_and_bad_values_raise() -> None:
    """Two intents with one idempotency id, a non-positive USD value or limit: ValueError."""
    with pytest.raises(ValueError, match="duplicate"):
        gate(withdrawal(1, 1.0), withdrawal(1, 2.0))
    with pytest.raises(ValueError):
        withdrawal(1, 0.0)
    with pytest.raises(ValueError):
        TransferLimits(0.0, 1.0)


def test_a_planned_transfer_becomes_a_gated_intent() -> None:
    """A plan's transfer converts to an intent carrying its request, id and USD value."""
    from bot.domain.collateral import (
        AccountCollateral,
        AccountKey,
        CollateralSnapshot,
        MarginBand,
        Route,
        optimize,
    )

    band = MarginBand(2.5, 3.0, 4.0)
    a, b = AccountKey(VenueId("a"), "main"), AccountKey(DERIBIT, "main")
    snap = CollateralSnapshot(
        0,
        {USDC: 1.0},
        (
            AccountCollateral(a, 100_000, 60_000, 50_000, band, {USDC: 0.0}),
            AccountCollateral(b, 500_000, 120_000, 100_000, band, {USDC: 300_000.0}),
        ),
        routes=(Route(b, a, USDC, fee_coin=10.0, address="0xOK", network="ERC20"),),
    )
    (planned,) = optimize(snap).plan.transfers
    intent = TransferIntent.from_planned(planned)
    assert intent.request.transfer_id == planned.transfer_id
    assert intent.amount_usd == planned.amount_usd
    decision = evaluate_transfers(
        [intent],
        ledger=TransferLedger(),
        limits=TransferLimits(100_000.0, 100_000.0),
        whitelist=WHITELIST,
        trading_state=ACTIVE,
        now_ms=NOW,
    )
    assert decision.approved == (intent,)
