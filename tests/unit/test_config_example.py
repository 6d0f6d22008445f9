"""config.example.toml: it loads, holds the example book, and documents every field."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from bot.config import (
    Config,
    ConfigError,
    Exchange,
    Mode,
    Numeraire,
    VenueRole,
    load_config,
)
from bot.config.base import nested_model
from bot.domain.instruments import InstrumentKind, OptionType, Settlement
from bot.ops.logging import LogFormat, LogLevel

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
LINES = EXAMPLE.read_text(encoding="utf-8").splitlines()


def fields(
    model: type[BaseModel], path: str = "", header: str = ""
) -> Iterator[tuple[str, str, str, FieldInfo]]:
    """(TOML table header or "" at top level, dotted path, key, field) of every field."""
    for name, info in model.model_fields.items():
        yield header, path, name, info
        found = nested_model(info.annotation)
        if found is not None:
            sub, is_list = found
            sub_path = f"{path}.{name}" if path else name
            yield from fields(sub, sub_path, f"[[{sub_path}]]" if is_list else f"[{sub_path}]")


def table_lines(header: str) -> list[str]:
    """The lines of the first table with ``header`` (top-level lines for ""), up to the next;
    a table commented out (``# [[alerts.channels]]``: it needs a variable set) counts too."""
    active = header in LINES
    start = (LINES.index(header if active else f"# {header}") + 1) if header else 0
    opens = "[" if active else ("[", "# [")
    end = next((i for i in range(start, len(LINES)) if LINES[i].startswith(opens)), len(LINES))
    return LINES[start:end]


ALL_FIELDS = list(fields(Config))


def test_example_loads_as_the_documented_demo_world() -> None:
    """The example is mode sim, usd, a Deribit options account and a Binance USDⓈ-M hedge
    account, BTC 60k/0.6 and ETH 3k/0.7."""
    config = load_config(EXAMPLE, {})
    assert (config.mode, config.numeraire) == (Mode.SIM, Numeraire.USD)
    assert (config.logging.level, config.logging.format) == (LogLevel.INFO, LogFormat.AUTO)
    assert [(v.name, v.exchange, v.role, v.testnet) for v in config.venues] == [
        ("deribit-a", Exchange.DERIBIT, (VenueRole.OPTIONS,), False),
        ("binance-a", Exchange.BINANCEUSDM, (VenueRole.HEDGE,), False),
    ]
    assert config.sim is not None
    assert config.sim.start == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert [(u.name, u.spot_usd, u.vol, u.rate) for u in config.sim.underlyings] == [
        ("BTC", 60000.0, 0.6, 0.0),
        ("ETH", 3000.0, 0.7, 0.0),
    ]


def test_example_book_is_short_and_long_coin_options_plus_perp_hedges() -> None:
    """The book: long and short inverse BTC and ETH options over two expiries on Deribit,
    short USDT-linear perps (in coin) on Binance, the hedge routes' instruments."""
    config = load_config(EXAMPLE, {})
    assert config.sim is not None
    book = config.sim.book
    assert {p.venue for p in book} == {"deribit-a", "binance-a"}
    options = [p for p in book if p.kind is InstrumentKind.OPTION]
    for coin in ("BTC", "ETH"):
        sizes = [p.size for p in options if p.underlying == coin]
        assert min(sizes) < 0 < max(sizes), coin
    assert {p.settlement for p in options} == {Settlement.INVERSE}
    assert {p.option_type for p in options} == {OptionType.CALL, OptionType.PUT}
    assert len({p.strike_usd for p in options}) >= 4
    assert {p.expiry for p in options} == {
        datetime(2026, 12, 25, 8, tzinfo=UTC),
        datetime(2027, 3, 26, 8, tzinfo=UTC),
    }
    assert {p.venue for p in options} == {"deribit-a"}
    perps = [p for p in book if p.kind is InstrumentKind.PERPETUAL]
    assert {(p.venue, p.underlying) for p in perps} == {("binance-a", "BTC"), ("binance-a", "ETH")}
    for perp in perps:
        assert perp.settlement is Settlement.LINEAR
        assert perp.size < 0
    assert {(h.venue, h.symbol) for h in config.hedges} == {
        ("binance-a", "BTC/USDT:USDT"),
        ("binance-a", "ETH/USDT:USDT"),
    }


@pytest.mark.parametrize(("header", "path", "key"), [(h, p, k) for h, p, k, _ in ALL_FIELDS])
def test_every_field_is_in_the_example_with_a_comment(header: str, path: str, key: str) -> None:
    """Each field appears in its table (set or commented out) right under a comment line."""
    lines = table_lines(header)
    pattern = re.compile(rf"^(# )?{key} = ")
    hits = [i for i, line in enumerate(lines) if pattern.match(line)]
    if not hits:  # a nested table is documented by its own header
        sub = f"{path}.{key}" if path else key
        tables = {f"[{sub}]", f"[[{sub}]]", f"# [[{sub}]]"}
        assert tables & set(LINES), f"{key} missing under {header!r}"
        return
    above = lines[hits[0] - 1] if hits[0] else ""
    assert above.startswith("#"), f"{header} {key} has no comment above it"


@pytest.mark.parametrize(("path", "key", "info"), [(p, k, i) for _, p, k, i in ALL_FIELDS])
def test_every_field_describes_its_default(path: str, key: str, info: FieldInfo) -> None:
    """Every field's description says it is required or gives its default."""
    description = (info.description or "").lower()
    word = "required" if info.is_required() else "default"
    assert word in description, f"{path}.{key}: {description!r}"


def _bounds(info: FieldInfo) -> tuple[bool, bool]:
    """Whether the field's constraints bound it from below and from above."""
    low = any(
        getattr(m, "ge", None) is not None or getattr(m, "gt", None) is not None
        for m in info.metadata
    )
    high = any(
        getattr(m, "le", None) is not None or getattr(m, "lt", None) is not None
        for m in info.metadata
    )
    return low, high


NUMBERS = [
    (p, k, i)
    for _, p, k, i in ALL_FIELDS
    if i.annotation in (int, float, int | None, float | None) and i.annotation is not bool
]


@pytest.mark.parametrize(("path", "key", "info"), NUMBERS)
def test_every_number_has_a_finite_range(path: str, key: str, info: FieldInfo) -> None:
    """Every numeric key is bounded on both sides, and its description gives the range."""
    assert _bounds(info) == (True, True), f"{path}.{key}"
    assert re.search(r"[\[(].*, .*[\])]|\.\.", info.description or ""), f"{path}.{key}"


def test_nan_and_infinity_are_refused_at_every_number(tmp_path: Path) -> None:
    """nan, inf and -inf in place of any number of the example fail at that number's key."""
    numbers = [i for i, line in enumerate(LINES) if re.fullmatch(r"\w+ = -?[\d.]+", line)]
    path = tmp_path / "nan.toml"
    for i in numbers:
        key = LINES[i].partition(" = ")[0]
        for bad in ("nan", "inf", "-inf"):
            path.write_text("\n".join([*LINES[:i], f"{key} = {bad}", *LINES[i + 1 :]]))
            with pytest.raises(ConfigError) as info:
                load_config(path, {})
            [(where, message)] = info.value.errors
            assert where.endswith(key), (where, message)
            assert "finite number" in message or "valid integer" in message, (where, message)
