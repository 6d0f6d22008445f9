"""Mutation fuzz of config.example.toml: a mutated config is refused at its keys or means something.

Seeded and bounded: ``ROUNDS`` mutations of the example (a value of another
type, a misspelt name or key, NaN, infinity and huge numbers, a key removed, an
entry duplicated, a key written twice, deep nesting), each loaded by
:func:`bot.config.load_config`. Either the loader raises :class:`ConfigError`
and every problem names a key path the mutated document has (its parent for a
missing key, the file for a document-level problem), or the config it returns
means something: every value keeps its TOML type, every number is finite, every
name it refers to is configured, the daemon can schedule its jobs and mode sim
can build its world. Any other exception fails the test.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import BaseModel

from bot.app.sim_world import build_sim_world
from bot.config import Config, ConfigError, Mode, load_config
from bot.config.base import nested_model
from bot.config.stress import margin_setup
from strategies.registry import BUILTINS

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
SEED = 20_260_311
ROUNDS = 300
INT64_MAX = 2**63 - 1

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Raw:
    """TOML text written as is (nesting too deep for the test's own writer)."""

    text: str


# ---------------------------------------------------------------- a TOML writer


def dumps(doc: dict[str, Any]) -> str:
    """The document as TOML, one top-level key per line, tables inline."""
    return "".join(f"{_key(k)} = {_value(v)}\n" for k, v in doc.items())


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"


# ---------------------------------------------------------------- walking a document


def nodes(data: Any) -> Iterator[tuple[Loc, Any]]:
    """Every (key path, value) below ``data``, depth first (no recursion: nesting may be deep)."""
    stack: list[tuple[Loc, Any]] = [((), data)]
    while stack:
        loc, node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        children = [((*loc, key), value) for key, value in items]
        yield from children
        stack.extend((c, v) for c, v in reversed(children) if isinstance(v, dict | list))


def key_path(loc: Loc) -> str:
    """``("venues", 1, "name")`` -> ``venues[1].name``, as the loader writes key paths."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parent(loc: Loc) -> tuple[Any, str | int]:
    return loc[:-1], loc[-1]


def at(doc: Any, loc: Loc) -> Any:
    for part in loc:
        doc = doc[part]
    return doc


# ---------------------------------------------------------------- mutations

OTHER_TYPES: tuple[Any, ...] = (
    "yes",
    "60",
    "",
    1,
    0,
    60,
    0.5,
    True,
    False,
    [],
    [1, "a"],
    {},
    {"a": 1},
    datetime(2026, 12, 1, 8, tzinfo=UTC),
    date(2026, 12, 1),
)
NUMBERS: tuple[Any, ...] = (
    math.nan,
    math.inf,
    -math.inf,
    1e15,
    -1e15,
    1e300,
    10**30,
    2**63,
    -(2**63),
    0,
    -1,
    1e-300,
)
NAMES = ("XBT", "BTCC", "btc", "SOL", "USDD", "deribit-c", "okx", "Deribit-A", "main2")


def misspell(rng: random.Random, text: str) -> str:
    """A near miss of ``text``: a letter dropped, doubled, swapped or re-cased, or a known alias."""
    if not text or rng.random() < 0.3:
        return rng.choice([n for n in NAMES if n != text])
    i = rng.randrange(len(text))
    edits = (
        text[:i] + text[i + 1 :],
        text[:i] + text[i] * 2 + text[i:],
        text[:i] + text[i:].swapcase(),
        text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :] if i else text + "x",
    )
    return next((e for e in rng.sample(edits, len(edits)) if e and e != text), text + "x")


def mutate(doc: dict[str, Any], rng: random.Random) -> str:
    """Apply one random mutation to ``doc`` in place; say what it was."""
    every = list(nodes(doc))
    loc, value = rng.choice(every)
    where, last = parent(loc)
    holder = at(doc, where)
    kind = rng.choice(
        ("retype", "number", "misspell", "rename", "add", "remove", "duplicate", "nest")
    )
    if kind == "number":
        numbers = [(p, v) for p, v in every if type(v) in (int, float)]
        loc, _ = rng.choice(numbers)
        where, last = parent(loc)
        holder = at(doc, where)
        holder[last] = rng.choice(NUMBERS)
    elif kind == "misspell":
        texts = [(p, v) for p, v in every if isinstance(v, str)]
        loc, value = rng.choice(texts)
        where, last = parent(loc)
        holder = at(doc, where)
        holder[last] = misspell(rng, value)
    elif kind in ("rename", "add") and isinstance(holder, dict):
        new = misspell(rng, str(last))
        if kind == "rename":
            holder[new] = holder.pop(last)
        else:
            holder[new] = copy.deepcopy(value)
        loc = (*where, new)
    elif kind == "remove":
        del holder[last]
    elif kind == "duplicate" and isinstance(value, list) and value:
        value.append(copy.deepcopy(rng.choice(value)))
    elif kind == "nest":
        depth = rng.choice((3, 60, 2000))
        holder[last] = Raw("[" * depth + "1" + "]" * depth)
    else:
        holder[last] = copy.deepcopy(rng.choice([t for t in OTHER_TYPES if t != value]))
        kind = "retype"
    return f"{kind} {key_path(loc)}"


# ---------------------------------------------------------------- what an accepted config means


def kept_types(config: Config, doc: dict[str, Any]) -> list[str]:
    """Keys whose loaded value has another type than the TOML value (lax coercion)."""
    dumped = config.model_dump()
    problems = []
    for loc, value in nodes(doc):
        try:
            loaded = at(dumped, loc)
        except (KeyError, IndexError, TypeError):
            problems.append(f"{key_path(loc)} was ignored")
            continue
        same = {
            bool: isinstance(loaded, bool),
            int: isinstance(loaded, int | float) and not isinstance(loaded, bool),
            float: isinstance(loaded, float),
            str: isinstance(loaded, str | Enum | Path),
            datetime: isinstance(loaded, datetime),
            date: isinstance(loaded, date),
            list: isinstance(loaded, list | tuple),
            dict: isinstance(loaded, dict),
        }[type(value)]
        if not same:
            problems.append(f"{key_path(loc)}: TOML {value!r} loaded as {loaded!r}")
    return problems


def finite(config: Config) -> list[str]:
    """Numbers that are not finite, or too large for the journal's 64-bit integers."""
    return [
        f"{key_path(loc)} = {value!r}"
        for loc, value in nodes(config.model_dump())
        if (isinstance(value, float) and not math.isfinite(value))
        or (isinstance(value, int) and abs(value) > INT64_MAX)
    ]


def references(config: Config) -> list[str]:
    """Names the config uses that it does not configure."""
    venues = {v.name for v in config.venues}
    hedged = {h.underlying for h in config.hedges}
    coins = hedged | {u.name for u in (config.sim.underlyings if config.sim else ())}
    currencies = coins | {"USDC", "USDT"}
    used: list[tuple[str, str, set[str]]] = [
        *((f"hedges[{i}].venue", h.venue, venues) for i, h in enumerate(config.hedges)),
        *(
            (f"hedges[{i}].symbol", h.symbol.partition("/")[0], {h.underlying})
            for i, h in enumerate(config.hedges)
            if "/" in h.symbol  # other names are checked against the venue's listing at start
        ),
        *(
            (f"strategy.target_delta_coin.{u}", u, hedged)
            for u in config.strategy.target_delta_coin
        ),
        *((f"margin.venue_models.{v}", v, venues) for v in config.margin.venue_models),
        *((f"paper.cash[{i}]", c.venue, venues) for i, c in enumerate(config.paper.cash)),
        *((f"paper.cash[{i}]", c.currency, currencies) for i, c in enumerate(config.paper.cash)),
        *(
            (f"collateral.venues[{i}]", v.name, venues)
            for i, v in enumerate(config.collateral.venues)
        ),
        *(
            (f"collateral.routes[{i}]", r.currency, currencies)
            for i, r in enumerate(config.collateral.routes)
        ),
    ]
    stress = config.stress
    for name in ("default_venues", "freeze_venues", "cascade_hedge_venues"):
        used += [(f"stress.{name}", v, venues) for v in getattr(stress, name)]
    for i, s in enumerate(stress.scenarios):
        used += [(f"stress.scenarios[{i}].lost_venues", v, venues) for v in s.lost_venues]
        if isinstance(s.price_move_frac, dict):
            used += [
                (f"stress.scenarios[{i}].price_move_frac", u, coins) for u in s.price_move_frac
            ]
    if "future_size_factor" in config.margin.model_fields_set:
        used += [("margin.future_size_factor", u, coins) for u in config.margin.future_size_factor]
    if config.sim is not None:
        sim_coins = {u.name for u in config.sim.underlyings}
        used += [(f"sim.book[{i}]", p.venue, venues) for i, p in enumerate(config.sim.book)]
        used += [(f"sim.balances[{i}]", b.venue, venues) for i, b in enumerate(config.sim.balances)]
        used += [
            (f"sim.balances[{i}]", b.currency, sim_coins | {"USDC", "USDT"})
            for i, b in enumerate(config.sim.balances)
        ]
        if config.mode is Mode.SIM:
            used += [(f"hedges[{i}]", h.underlying, sim_coins) for i, h in enumerate(config.hedges)]
    return [
        f"{where}: {name!r} is not among {sorted(known)}"
        for where, name, known in used
        if name not in known
    ]


def schedulable(config: Config) -> list[str]:
    """Intervals the scheduler cannot run as configured (overflow, or rounded to nothing)."""
    embedded = config.mode is Mode.SIM and all(v.api_url is None for v in config.venues)
    speed = config.sim.speed if embedded and config.sim is not None else 1.0
    daemon = config.daemon
    problems = []
    for name, interval_s in (
        ("daemon.hedge_interval_s", daemon.hedge_interval_s),
        ("daemon.reconcile_interval_s", daemon.reconcile_interval_s),
        ("daemon.margin_interval_s", daemon.margin_interval_s),
        ("daemon.surface_interval_s", daemon.surface_interval_s),
        ("stress.interval_s", config.stress.interval_s),
    ):
        try:
            wall = timedelta(seconds=interval_s / speed)
            IntervalTrigger(seconds=interval_s / speed, timezone=UTC)
        except (OverflowError, ValueError) as exc:
            problems.append(f"{name} = {interval_s} at speed {speed}: {exc}")
            continue
        if wall <= timedelta(0):
            problems.append(f"{name} = {interval_s} at speed {speed} is under a microsecond")
    return problems


def runnable(config: Config) -> list[str]:
    """What the daemon builds from the config before any network: refusals it would meet."""
    risk = config.risk
    problems = [
        f"risk.{name} rounds to {getattr(risk, name)} ms"
        for name in (
            "order_window_ms",
            "max_input_age_ms",
            "max_clock_skew_ms",
            "unknown_grace_ms",
            "unknown_resolution_ms",
        )
        if getattr(risk, name) <= 0
    ]
    risk.limits()
    margin_setup(config.margin)
    config.stress.light_params()
    config.collateral.optimizer_settings()
    config.strategy.build()
    if config.mode is Mode.SIM:
        problems += [
            f"venues[{i}].exchange: mode sim with {v.exchange.value}"
            for i, v in enumerate(config.venues)
            if v.exchange.value not in ("deribit", "binanceusdm")
        ]
        urls = {v.api_url is None for v in config.venues}
        if len(urls) > 1:
            problems.append("venues: api_url on some venues only")
        elif urls == {True}:
            build_sim_world(config)
    return problems


def meaningless(config: Config, doc: dict[str, Any]) -> list[str]:
    """Why an accepted config means nothing (empty when it means something)."""
    return [
        *kept_types(config, doc),
        *finite(config),
        *references(config),
        *schedulable(config),
        *runnable(config),
    ]


def field_names(model: type[BaseModel] = Config) -> set[str]:
    """Every key any config table has."""
    names = set(model.model_fields)
    for info in model.model_fields.values():
        found = nested_model(info.annotation)
        if found is not None:
            names |= field_names(found[0])
    return names


FIELDS = field_names().union(*(field_names(s.Params) for s in BUILTINS.values()))


def misplaced(errors: list[tuple[str, str]], doc: dict[str, Any] | None, path: Path) -> list[str]:
    """Problems at a key path the document does not have (a key it lacks: its table has to
    exist); a document TOML cannot read has only its file to name."""
    paths = {key_path(loc): value for loc, value in nodes(doc or {})}
    tables = {key for key, value in paths.items() if isinstance(value, dict)} | {""}
    out = []
    for key, message in errors:
        table, _, last = key.rpartition(".")
        lacks = last in FIELDS and table in tables and not key.endswith("]")
        if not (key in paths or lacks or key == str(path)):
            out.append(f"{key}: {message}")
    return out


# ---------------------------------------------------------------- the fuzz test


def test_mutations_are_refused_at_their_keys_or_mean_something(tmp_path: Path) -> None:
    """Each seeded mutation is a ConfigError naming keys the document has, or a config that
    keeps TOML types, is finite, resolves its names, schedules and builds; nothing else."""
    rng = random.Random(SEED)
    base = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    path = tmp_path / "mutated.toml"
    failures: list[str] = []
    for round_ in range(ROUNDS):
        doc = copy.deepcopy(base)
        note = mutate(doc, rng)
        text = dumps(doc)
        if rng.random() < 0.05:  # a top-level key written twice: a TOML error, not a config one
            lines = text.splitlines(keepends=True)
            text += rng.choice(lines)
            note += " (and a key written twice)"
        path.write_text(text, encoding="utf-8")
        try:
            parsed: dict[str, Any] | None = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError):
            parsed = None
        try:
            config = load_config(path, {})
        except ConfigError as exc:
            failures += [
                f"#{round_} {note}: not at a key: {p}" for p in misplaced(exc.errors, parsed, path)
            ]
        except Exception as exc:
            failures.append(f"#{round_} {note}: {type(exc).__name__}: {str(exc)[:200]}")
        else:
            assert parsed is not None
            try:
                failures += [
                    f"#{round_} {note}: accepted: {m}" for m in meaningless(config, parsed)
                ]
            except Exception as exc:
                failures.append(f"#{round_} {note}: accepted, then {type(exc).__name__}: {exc}")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)


# ---------------------------------------------------------------- what the fuzz found, kept

EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")

FOUND = [
    # (old text of the example, its replacement (first occurrence), key path, message part)
    (
        "BTC = 0.0\n",
        "BTC = 0.0\nXBT = 0.5\n",
        "strategy.target_delta_coin.XBT",
        "no [[hedges]] route",
    ),
    (
        "BTC = 0.0\n",
        "BTC = 0.0\nBTCC = 0.5\n",
        "strategy.target_delta_coin.BTCC",
        "(hedged: BTC, ETH)",
    ),
    ("BTC = 0.0\n", "BTC = true\n", "strategy.target_delta_coin.BTC", "valid number (got True)"),
    ("testnet = false", 'testnet = "yes"', "venues[0].testnet", "valid boolean (got 'yes')"),
    (
        "allow_non_loopback = false",
        "allow_non_loopback = 1",
        "metrics.allow_non_loopback",
        "valid boolean",
    ),
    (
        "order_window_s = 60",
        'order_window_s = "60"',
        "risk.order_window_s",
        "valid number (got '60')",
    ),
    ("seed = 42", "seed = true", "sim.seed", "valid integer (got True)"),
    ("accept_gap_usd = 50", "accept_gap_usd = false", "collateral.accept_gap_usd", "valid number"),
    (
        "width_up = 5000",
        'width_up = "5000"',
        "strategy.params.width_up",
        "valid number (got '5000')",
    ),
    ("width_up = 5000", "width_up = -1", "strategy.params.width_up", "greater than or equal to 0"),
    (
        "hedge_interval_s = 5",
        "hedge_interval_s = 1e15",
        "daemon.hedge_interval_s",
        "less than or equal to 86400",
    ),
    (
        "breach_paths = 20000",
        f"breach_paths = {10**30}",
        "margin.breach_paths",
        "less than or equal to 1000000",
    ),
    ("vol = 0.6", "vol = 1e-300", "sim.underlyings[0].vol", "greater than or equal to 0.01"),
    (
        "horizon_days = 7",
        "horizon_days = 1e-9",
        "collateral.horizon_days",
        "greater than or equal to 0.001",
    ),
    ('mode = "sim"', 'MODE = "live"', "MODE", "unknown key (allowed here: mode,"),
    (
        'underlying = "BTC"',
        'underlying = "TBC"',
        "hedges[0].underlying",
        "not in [[sim.underlyings]]",
    ),
    ('underlying = "BTC"', 'underlying = "ETH"', "hedges[0].symbol", "BTC/USDT:USDT is not on ETH"),
    (
        'symbol = "BTC/USDT:USDT"',
        'symbol = "BTC/USD"',
        "hedges[0].symbol",
        "not a perpetual or future",
    ),
    (
        'symbol = "BTC/USDT:USDT"',
        'symbol = "BTC/USD:BTC-261225-60000-C"',
        "hedges[0].symbol",
        "not a perpetual or future",
    ),
    (
        "ETH = 0.000004 }",
        "ETH = 0.000004, USDD = 1e-5 }",
        "margin.future_size_factor.USDD",
        "underlying 'USDD' is not configured",
    ),
    ("ETH = -0.4 }", "ETH = [[1]] }", "stress.scenarios[0].price_move_frac.ETH", "valid number"),
    ("{ BTC = -0.2, ETH = -0.4 }", '"x"', "stress.scenarios[0].price_move_frac", "valid number"),
    (
        'exchange = "deribit"',
        'exchange = "okx"',
        "venues[0].exchange",
        "mode sim simulates deribit and binanceusdm",
    ),
    ("# api_url = ", "api_url = ", "venues[0].api_url", "every venue names a standalone emulator"),
    (
        '\nsettlement = "inverse"',
        '\nsettlement = "linear"',
        "sim.book[0].settlement",
        "no linear options",
    ),
]


@pytest.mark.parametrize(("old", "new", "key", "part"), FOUND, ids=[f[2] for f in FOUND])
def test_found_case_is_refused_at_its_key(
    tmp_path: Path, old: str, new: str, key: str, part: str
) -> None:
    """Each case the fuzz (or issue 11) found is refused, with the problem at its own key."""
    path = tmp_path / "found.toml"
    path.write_text(EXAMPLE_TEXT.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    found = dict(info.value.errors)
    assert part in found.get(key, ""), found


def test_targets_without_any_hedge_route_are_refused(tmp_path: Path) -> None:
    """With every [[hedges]] table removed, the example's targets change nothing: refused."""
    start, end = EXAMPLE_TEXT.index("\n[[hedges]]\n"), EXAMPLE_TEXT.index("# The daemon:")
    path = tmp_path / "unhedged.toml"
    path.write_text(EXAMPLE_TEXT[:start] + EXAMPLE_TEXT[end:], encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert sorted(dict(info.value.errors)) == [
        "strategy.target_delta_coin.BTC",
        "strategy.target_delta_coin.ETH",
    ]


@pytest.mark.parametrize("depth", [400, 2000])
def test_deep_nesting_is_one_problem_not_a_recursion_error(tmp_path: Path, depth: int) -> None:
    """Arrays nested 400 deep (TOML reads them) or 2000 deep (it cannot) are one problem."""
    path = tmp_path / "deep.toml"
    path.write_text(
        EXAMPLE_TEXT.replace("seed = 42", "seed = " + "[" * depth + "]" * depth), encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    [(key, message)] = info.value.errors
    if depth == 2000:
        assert (key, message) == (
            str(path),
            "arrays or tables nested too deeply to read (a config needs 32 at most)",
        )
    else:
        assert (key, message) == ("sim.seed", "nested more than 32 levels deep")


def test_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    """A file over 1 MiB is one problem naming the file."""
    path = tmp_path / "huge.toml"
    path.write_text(EXAMPLE_TEXT + "#" * (1 << 20), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert info.value.errors == [(str(path), "config file is larger than 1024 KiB: not a config")]
