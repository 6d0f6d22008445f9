"""In-process "blockchain" joining simulated exchanges: deposit addresses and transfers in flight.

A withdrawal from one :class:`~bot.sim.exchange.SimExchange` to an address
another one registered lands there as a deposit once its arrival time has
passed on the receiver's clock. Shared by reference between exchanges.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.sim.errors import INVALID_ADDR, INVALID_TRANSFER_ADDRESS, SimError


@dataclass(frozen=True, slots=True)
class Destination:
    """Who owns a deposit address: exchange name, account id and currency."""

    exchange: str
    account_id: int
    currency: str


@dataclass(frozen=True, slots=True)
class InFlight:
    """A transfer on the network, arriving at ``arrival_ms``."""

    tx_id: str
    address: str
    destination: Destination
    amount: float
    sent_ms: int
    arrival_ms: int


class SimNetwork:
    """Registry of deposit addresses plus the transfers not yet collected by their receiver."""

    def __init__(self) -> None:
        self._addresses: dict[str, Destination] = {}
        self._in_flight: list[InFlight] = []
        self._tx_seq = 0

    def register(self, address: str, destination: Destination) -> None:
        """Make ``address`` deliver to ``destination``; an address has one owner."""
        owner = self._addresses.setdefault(address, destination)
        if owner != destination:
            raise ValueError(f"deposit address {address!r} already belongs to {owner}")

    def lookup(self, address: str) -> Destination | None:
        return self._addresses.get(address)

    def check(self, address: str, currency: str) -> Destination:
        """The destination of ``address`` for ``currency``, or the SimError a venue returns."""
        dest = self._addresses.get(address)
        if dest is None:
            raise SimError(
                INVALID_ADDR, "invalid_addr", {"param": "address", "reason": "unknown address"}
            )
        if dest.currency != currency:
            raise SimError(
                INVALID_TRANSFER_ADDRESS,
                "invalid_transfer_address",
                {"param": "address", "reason": f"address takes {dest.currency}, not {currency}"},
            )
        return dest

    def send(
        self, address: str, currency: str, amount: float, sent_ms: int, arrival_ms: int
    ) -> InFlight:
        """Put ``amount`` on the way to ``address``; returns the transfer with its tx id."""
        dest = self.check(address, currency)
        self._tx_seq += 1
        tx = InFlight(f"simtx{self._tx_seq:08d}", address, dest, amount, sent_ms, arrival_ms)
        self._in_flight.append(tx)
        return tx

    def pending(self, exchange: str) -> list[InFlight]:
        """Transfers to ``exchange`` not collected yet, in arrival order."""
        return sorted(
            (t for t in self._in_flight if t.destination.exchange == exchange),
            key=lambda t: (t.arrival_ms, t.tx_id),
        )

    def collect(self, exchange: str, until_ms: int) -> list[InFlight]:
        """Remove and return the transfers to ``exchange`` that have arrived by ``until_ms``."""
        arrived = [t for t in self.pending(exchange) if t.arrival_ms <= until_ms]
        done = {t.tx_id for t in arrived}
        self._in_flight = [t for t in self._in_flight if t.tx_id not in done]
        return arrived
