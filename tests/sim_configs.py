"""TOML of the mode-sim configs the tests run the emulator with, built from named parts.

Each function returns one fragment; :func:`sim` joins them under ``mode = "sim"``, so a
test states only what its scenario is about (its venues, book and limits) and shares the
rest. The text keeps ``{journal}`` (and whatever other placeholder a caller adds) for
``str.format``, so an inline table in a fragment a caller writes is ``{{ ... }}``;
:func:`load` formats and loads it as ``deltabot`` would.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import Config, load_config

START_MS = 1_796_112_000_000
"""``sim.start``, 2026-12-01T08:00:00Z, in ms."""
START = "2026-12-01T08:00:00Z"
EXPIRY = "2026-12-25T08:00:00Z"
"""The options' expiry, 24 days after the start."""
JOURNAL = "{journal}"


def sim(*parts: str, **root: str) -> str:
    """A mode-sim config of ``parts``; ``root`` keys (``numeraire="coin"``) come first."""
    keys = "".join(f'{k} = "{v}"\n' for k, v in root.items())
    return 'mode = "sim"\n' + keys + "".join(parts)


def venue(
    name: str, exchange: str = "deribit", roles: tuple[str, ...] = ("options", "hedge")
) -> str:
    """One ``[[venues]]`` entry; ``roles`` as the config lists them."""
    listed = ", ".join(f'"{r}"' for r in roles)
    return f'[[venues]]\nname = "{name}"\nexchange = "{exchange}"\nrole = [{listed}]\n'


def split_venues(hedge_exchange: str = "deribit") -> str:
    """Options on a Deribit venue ``opts``, hedges on a ``hedge_exchange`` venue ``hedge``."""
    return venue("opts", roles=("options",)) + venue("hedge", hedge_exchange, roles=("hedge",))


def hedge_route(venue_name: str, symbol: str = "BTC/USD:BTC", underlying: str = "BTC") -> str:
    """One ``[[hedges]]`` route: ``underlying`` hedged on ``venue_name`` through ``symbol``."""
    return f'[[hedges]]\nunderlying = "{underlying}"\nvenue = "{venue_name}"\nsymbol = "{symbol}"\n'


def band(width: float) -> str:
    """The band strategy, ``width`` either side (in its default unit, coin)."""
    return (
        f'[strategy]\nname = "band"\n[strategy.params]\nwidth_up = {width}\nwidth_down = {width}\n'
    )


def risk_caps(
    order_usd: int = 1_000_000, hourly_usd: int = 10_000_000, **extra: int | float
) -> str:
    """``[risk]`` with notional caps no test scenario reaches unless it lowers one (order,
    hourly; daily 50,000,000), and ``extra`` keys as given."""
    lines = [
        f"max_order_notional_usd = {order_usd}",
        f"max_hourly_notional_usd = {hourly_usd}",
        "max_daily_notional_usd = 50000000",
        *(f"{k} = {v}" for k, v in extra.items()),
    ]
    return "[risk]\n" + "\n".join(lines) + "\n"


def quiet(journal: str = JOURNAL) -> str:
    """The journal at ``journal`` and no metrics server (tests run side by side)."""
    return f'[daemon]\njournal_path = "{journal}"\n[metrics]\nenabled = false\n'


def market(
    vol: float = 0.5, *, spot_usd: int = 60000, underlying: str = "BTC", **keys: object
) -> str:
    """``[sim]`` from :data:`START` with ``keys`` (``seed``, ``speed``, ``perp_basis_frac``
    as TOML text) and its first underlying."""
    head = [f"start = {START}", *(f"{k} = {v}" for k, v in keys.items())]
    return "[sim]\n" + "\n".join(head) + "\n" + underlying_spec(underlying, spot_usd, vol)


def underlying_spec(name: str, spot_usd: int, vol: float) -> str:
    """One more ``[[sim.underlyings]]``: its spot in USD and flat vol."""
    return f'[[sim.underlyings]]\nname = "{name}"\nspot_usd = {spot_usd}\nvol = {vol}\n'


def balance(venue_name: str, currency: str, amount: float) -> str:
    """One ``[[sim.balances]]``: ``amount`` of ``currency`` in ``venue_name``'s account."""
    return f'[[sim.balances]]\nvenue = "{venue_name}"\ncurrency = "{currency}"\namount = {amount}\n'


def option(
    venue_name: str,
    *,
    strike_usd: float,
    size: float,
    option_type: str = "call",
    underlying: str = "BTC",
) -> str:
    """One inverse option of the book expiring at :data:`EXPIRY`, ``size`` in coin."""
    return (
        f'[[sim.book]]\nvenue = "{venue_name}"\nunderlying = "{underlying}"\nkind = "option"\n'
        f'settlement = "inverse"\noption_type = "{option_type}"\nstrike_usd = {strike_usd}\n'
        f"expiry = {EXPIRY}\nsize = {size}\n"
    )


def perpetual(
    venue_name: str, size: float, *, underlying: str = "BTC", settlement: str = "inverse"
) -> str:
    """One perpetual of the book: ``size`` in USD if inverse, coin if linear."""
    return (
        f'[[sim.book]]\nvenue = "{venue_name}"\nunderlying = "{underlying}"\nkind = "perpetual"\n'
        f'settlement = "{settlement}"\nsize = {size}\n'
    )


def collateral_job(mode: str = "auto") -> str:
    """``[collateral]`` in ``mode`` with transfer caps no scenario reaches."""
    caps = "max_transfer_usd = 1000000\nmax_daily_transfer_usd = 2000000\n"
    return f'[collateral]\nmode = "{mode}"\n' + caps


def account(name: str, band: tuple[float, float, float] | None = None) -> str:
    """One ``[[collateral.venues]]``; ``band`` its (floor, target, ceiling) of equity / MM."""
    entry = f'[[collateral.venues]]\nname = "{name}"\n'
    if band is None:
        return entry
    floor, target, ceiling = band
    return entry + f"band = {{{{ floor = {floor}, target = {target}, ceiling = {ceiling} }}}}\n"


def route(
    source: str, to: str, currency: str, *, fee_coin: float, min_coin: float, delay_s: int
) -> str:
    """One ``[[collateral.routes]]`` to the emulator's deposit address of ``currency`` at
    ``to`` (``sim-<to>-1-<currency>``)."""
    return (
        f'[[collateral.routes]]\nfrom_venue = "{source}"\nto_venue = "{to}"\n'
        f'currency = "{currency}"\naddress = "sim-{to}-1-{currency.lower()}"\n'
        f"fee_coin = {fee_coin}\nmin_coin = {min_coin}\ndelay_s = {delay_s}\n"
    )


def load(tmp_path: Path, text: str, **fields: object) -> Config:
    """``text`` formatted (``journal`` in ``tmp_path`` unless given), written to
    ``tmp_path/config.toml`` and loaded as ``deltabot`` loads it."""
    path = tmp_path / "config.toml"
    path.write_text(text.format(**({"journal": tmp_path / "j.sqlite"} | fields)))
    return load_config(path, {})
