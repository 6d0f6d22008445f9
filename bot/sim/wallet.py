"""Money in and out of accounts: sub-account transfers, withdrawals and deposits.

Transfers within one exchange are instant and free. Withdrawals are main
account only (support.deribit.com "Withdrawals": "Withdrawals are only
available on main accounts"), debit the balance when requested and move
unconfirmed → confirmed → completed; the network fee is taken from the amount
sent, and the rest lands as a deposit wherever the address is registered.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from bot.sim.accounts import AccountState
from bot.sim.dialect import CURRENCIES, Dialect
from bot.sim.errors import (
    INVALID_TRANSFER_ADDRESS,
    NOT_ENOUGH_FUNDS,
    TRANSFER_NOT_ALLOWED,
    UNAVAILABLE_IN_SUBACCOUNT,
    SimError,
    bad_param,
    sim_error,
)
from bot.sim.network import Destination, SimNetwork
from bot.sim.spec import WalletSpec
from bot.sim.views import DepositView, TransferView, WithdrawalView


@dataclass(frozen=True, slots=True)
class _Withdrawal:
    id: int
    account_id: int
    currency: str
    address: str
    amount: float
    fee: float
    created_ms: int
    tx_id: str
    confirm_ms: int
    arrival_ms: int

    def view(self, now: int) -> WithdrawalView:
        """The withdrawal as of ``now``: unconfirmed → confirmed → completed."""
        if now >= self.arrival_ms:
            state, updated = "completed", self.arrival_ms
        elif now >= self.confirm_ms:
            state, updated = "confirmed", self.confirm_ms
        else:
            state, updated = "unconfirmed", self.created_ms
        return WithdrawalView(
            id=self.id,
            address=self.address,
            amount=self.amount,
            currency=self.currency,
            fee=self.fee,
            priority=1.0,
            state=state,
            transaction_id=self.tx_id if now >= self.confirm_ms else None,
            created_timestamp=self.created_ms,
            confirmed_timestamp=self.confirm_ms if now >= self.confirm_ms else None,
            updated_timestamp=updated,
        )


def check_amount(param: str, amount: float) -> float:
    """A positive finite amount, or a SimError naming ``param``."""
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount):
        raise bad_param(param, f"must be a finite number, got {amount!r}")
    if amount <= 0:
        raise bad_param(param, f"must be positive, got {amount!r}")
    return float(amount)


def check_currency(currency: str, currencies: tuple[str, ...] = CURRENCIES[Dialect.DERIBIT]) -> str:
    """``currency`` if the venue holds it, else a SimError naming the ones it does."""
    if currency not in currencies:
        raise bad_param("currency", f"unknown currency {currency!r}; have {', '.join(currencies)}")
    return currency


class Wallet:
    """Transfers, withdrawals and deposits of one exchange's accounts."""

    def __init__(
        self,
        exchange: str,
        spec: WalletSpec,
        accounts: Mapping[int, AccountState],
        network: SimNetwork | None,
        currencies: tuple[str, ...] = CURRENCIES[Dialect.DERIBIT],
    ) -> None:
        self._exchange = exchange
        self._currencies = currencies
        self._spec = spec
        self._accounts = accounts
        self._network = network
        self._withdrawals: list[_Withdrawal] = []
        self._deposits: list[DepositView] = []
        self._transfer_seq = 0
        for acc_id in accounts:
            for cur in currencies:
                if network is not None:
                    network.register(self.address(acc_id, cur), Destination(exchange, acc_id, cur))

    def address(self, account_id: int, currency: str) -> str:
        """The deterministic deposit address of one account and currency."""
        return f"sim-{self._exchange}-{account_id}-{currency.lower()}"

    def transfer(
        self,
        src: AccountState,
        dst_id: int,
        currency: str,
        amount: float,
        *,
        available: float,
        now: int,
    ) -> TransferView:
        """Move ``amount`` of ``currency`` between two accounts of this exchange, instantly."""
        check_currency(currency, self._currencies)
        amount = check_amount("amount", amount)
        dst = self._accounts.get(dst_id)
        if dst is None or dst_id == src.spec.id:
            why = "unknown destination" if dst is None else "destination is the source account"
            raise SimError(
                TRANSFER_NOT_ALLOWED,
                "transfer_not_allowed",
                {"param": "destination", "reason": why},
            )
        if amount > available + 1e-12:
            raise sim_error(NOT_ENOUGH_FUNDS, param="amount", reason=f"available {available:.8f}")
        src.balances[currency] = src.balances.get(currency, 0.0) - amount
        dst.balances[currency] = dst.balances.get(currency, 0.0) + amount
        self._transfer_seq += 1
        return TransferView(
            id=self._transfer_seq,
            amount=amount,
            currency=currency,
            direction="payment",
            other_side=dst.spec.username,
            state="confirmed",
            type="subaccount",
            created_timestamp=now,
            updated_timestamp=now,
        )

    def withdraw(
        self,
        acc: AccountState,
        currency: str,
        address: str,
        amount: float,
        *,
        available: float,
        now: int,
    ) -> WithdrawalView:
        """Request a withdrawal; the balance is debited now and the transfer confirmed later."""
        check_currency(currency, self._currencies)
        amount = check_amount("amount", amount)
        if not acc.is_main:
            raise sim_error(UNAVAILABLE_IN_SUBACCOUNT, reason="withdrawals are main-account only")
        minimum = self._spec.withdrawal_min.get(currency, 0.0)
        if amount < minimum:
            raise bad_param("amount", f"below the minimum withdrawal of {minimum} {currency}")
        whitelist = self._spec.whitelist
        if whitelist is not None and address not in whitelist:
            raise SimError(
                INVALID_TRANSFER_ADDRESS,
                "invalid_transfer_address",
                {"param": "address", "reason": "address is not in the withdrawal whitelist"},
            )
        if self._network is None:
            raise sim_error(INVALID_TRANSFER_ADDRESS, param="address", reason="no network attached")
        self._network.check(address, currency)
        if amount > available + 1e-12:
            raise sim_error(NOT_ENOUGH_FUNDS, param="amount", reason=f"available {available:.8f}")
        acc.balances[currency] = acc.balances.get(currency, 0.0) - amount
        fee = self._spec.withdrawal_fee.get(currency, 0.0)
        confirm_ms = now + self._spec.confirm_delay_ms
        arrival_ms = confirm_ms + self._spec.network_delay_ms
        # Scheduled on the network at once, so the receiver sees it land even if nobody
        # polls this exchange again; the state below only follows the clock.
        tx = self._network.send(address, currency, amount - fee, confirm_ms, arrival_ms)
        w = _Withdrawal(
            id=len(self._withdrawals) + 1,
            account_id=acc.spec.id,
            currency=currency,
            address=address,
            amount=amount,
            fee=fee,
            created_ms=now,
            tx_id=tx.tx_id,
            confirm_ms=confirm_ms,
            arrival_ms=arrival_ms,
        )
        self._withdrawals.append(w)
        return w.view(now)

    def advance(self, now: int) -> None:
        """Credit the deposits that have arrived by ``now``."""
        if self._network is None:
            return
        for tx in self._network.collect(self._exchange, now):
            acc = self._accounts[tx.destination.account_id]
            cur = tx.destination.currency
            acc.balances[cur] = acc.balances.get(cur, 0.0) + tx.amount
            self._deposits.append(
                DepositView(
                    address=tx.address,
                    amount=tx.amount,
                    currency=cur,
                    state="completed",
                    transaction_id=tx.tx_id,
                    received_timestamp=tx.arrival_ms,
                    updated_timestamp=tx.arrival_ms,
                    note="",
                )
            )

    def withdrawals(self, account_id: int, currency: str, now: int) -> list[WithdrawalView]:
        """Newest first, each in the state the clock has reached."""
        return [
            w.view(now)
            for w in reversed(self._withdrawals)
            if w.account_id == account_id and w.currency == currency
        ]

    def deposits(self, account_id: int, currency: str, now: int) -> list[DepositView]:
        """Newest first; transfers sent but not yet arrived show as ``pending``."""
        pending = self._network.pending(self._exchange) if self._network else []
        out = [
            DepositView(t.address, t.amount, currency, "pending", t.tx_id, t.sent_ms, t.sent_ms, "")
            for t in reversed(pending)
            if t.destination.account_id == account_id
            and t.destination.currency == currency
            and t.sent_ms <= now
        ]
        address = self.address(account_id, currency)
        out += [d for d in reversed(self._deposits) if d.address == address]
        return out
