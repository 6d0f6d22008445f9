"""``deltabot backtest``: hedge an option book along Monte Carlo or recorded paths.

Example (write a one-month ATM call; hourly re-hedging against a grid of bands)::

    deltabot backtest --option call:100:0.0833:-1 --model gbm --vol 0.2 --rate 0.05 \\
        --paths 50000 --steps 84 --seed 1 --fee 0.0005 \\
        --strategy interval --param interval_s=3600 \\
        --strategy band --param width_down=0.05 --grid width_up=0.02,0.05,0.1 \\
        --plot out.png

``--param`` and ``--grid`` belong to the ``--strategy`` before them; several
``--grid`` keys make their product. Values are TOML (``0.5``, ``true``,
``"edge"``; a bare word is a string). Exit 0 with the report (text, or JSON
with ``--json``), or 2 with one line saying what is wrong: never a traceback.
A run that would need more memory than ``--max-memory-gb`` (default: half of
this machine's) is refused with the figure before it starts. The chunks run
where ``--scheduler`` (or ``--config``'s ``[compute]``) says: ``serial``,
``local`` (the default) or ``tcp://host:8786``, with the same figures on each.

``--option-hedge`` runs the option-hedge loop on every path (proposals
auto-approved) and reports each strategy with and without it on the same
paths; its vega limits come from ``--hard-vega``/``--soft-vega`` or, failing
those, from the ``[greek_limits]`` limit on bucket ``all`` of the daemon config
(``--config``, or ``--book`` when it is one)::

    deltabot backtest --option call:100:0.25:-10 --vol 0.5 --strategy band \
        --option-hedge --hard-vega 0.5 --soft-vega 0.3
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.backtest import (
    GBM,
    Book,
    Costs,
    Heston,
    Historical,
    Merton,
    OptionHedgeSpec,
    PathModel,
    StrategySpec,
    load_book_toml,
    parse_leg,
    read_price_csv,
    run_backtest,
)
from bot.backtest.report import format_table, to_json_dict
from bot.commands.common import add_scheduler, compute_of, load_or_report, on_runner
from bot.compute import open_runner
from bot.config.compute import ComputeConfig
from bot.ops.progress import RunProgress

if TYPE_CHECKING:
    from bot.backtest.chain_option_hedge import ChainOptionHedge
    from bot.config import Config

_PROGRESS_AFTER_S = 1.0
"""A run quicker than this shows no progress."""


class _StrategyAction(argparse.Action):
    """Collect ``--strategy``/``--param``/``--grid`` in order: [name, params, grid] entries."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        entries: list[list[Any]] = getattr(namespace, "strategy_entries", None) or []
        value = str(values)
        if option_string == "--grid" and "=" not in value:
            namespace.grid_file = Path(value)  # a sweep's grid file, not one strategy's key
            return
        if option_string == "--strategy":
            entries.append([value, {}, {}])
        else:
            if not entries:
                parser.error(f"{option_string} {value}: give --strategy NAME before it")
            key, sep, raw = value.partition("=")
            if not (sep and key):
                parser.error(f"{option_string} {value!r}: expected key=value")
            if option_string == "--param":
                entries[-1][1][key] = _toml_value(raw)
            else:
                entries[-1][2][key] = [_toml_value(v) for v in raw.split(",")]
        namespace.strategy_entries = entries


def _toml_value(raw: str) -> object:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw.strip()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Book, model, strategies, costs, run size and output options."""
    book = parser.add_argument_group("book (give --option or --book)")
    book.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="SPEC",
        help="an option leg, repeatable: KIND:STRIKE_USD:EXPIRY_YEARS:QUANTITY_COIN"
        "[:linear|coin], e.g. call:100:0.0833:-1 (default: none; settlement linear)",
    )
    book.add_argument(
        "--book",
        type=Path,
        metavar="FILE.toml",
        help="book file ([[options]] tables and initial_hedge_coin), or a daemon config: its "
        "[[backtest.book]] or [[sim.book]] options of one underlying (default: none)",
    )
    book.add_argument(
        "--underlying",
        metavar="COIN",
        help="with a daemon config as --book: the underlying whose options to hedge "
        "(default: the first option's)",
    )
    book.add_argument(
        "--initial-hedge",
        type=float,
        default=None,
        metavar="COIN",
        help="hedge held at t=0, coin (default: the book file's initial_hedge_coin, else 0)",
    )
    market = parser.add_argument_group("market")
    market.add_argument(
        "--model",
        choices=("gbm", "merton", "heston", "csv"),
        default="gbm",
        help="price paths: GBM, Merton jump-diffusion, Heston or a recorded CSV "
        "(default: %(default)s)",
    )
    market.add_argument(
        "--spot",
        type=float,
        default=None,
        help="spot at t=0, USD (default: 100, or the [[sim.underlyings]] spot of a daemon "
        "config given as --book)",
    )
    market.add_argument(
        "--vol",
        type=float,
        default=None,
        help="model vol, fraction per year (default: 0.2, or the [[sim.underlyings]] vol of a "
        "daemon config given as --book)",
    )
    market.add_argument(
        "--drift",
        type=float,
        default=None,
        help="drift of the paths, fraction per year (default: --rate)",
    )
    market.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="risk-free rate, continuous, fraction per year (default: %(default)s)",
    )
    market.add_argument(
        "--pricing-vol",
        type=float,
        default=None,
        help="vol the options are priced and hedged at, fraction per year "
        "(default: the model's vol; --model csv: its iv column)",
    )
    market.add_argument(
        "--jump-intensity",
        type=float,
        default=1.0,
        help="merton: jumps per year (default: %(default)s)",
    )
    market.add_argument(
        "--jump-mean",
        type=float,
        default=-0.05,
        help="merton: mean log jump size (default: %(default)s)",
    )
    market.add_argument(
        "--jump-std",
        type=float,
        default=0.1,
        help="merton: std of the log jump size (default: %(default)s)",
    )
    market.add_argument(
        "--kappa",
        type=float,
        default=2.0,
        help="heston: mean reversion of the variance, per year (default: %(default)s)",
    )
    market.add_argument(
        "--theta",
        type=float,
        default=None,
        help="heston: long-run variance, per year (default: --vol squared)",
    )
    market.add_argument(
        "--xi",
        type=float,
        default=0.5,
        help="heston: vol of the variance, per year (default: %(default)s)",
    )
    market.add_argument(
        "--rho",
        type=float,
        default=-0.7,
        help="heston: correlation of price and variance (default: %(default)s)",
    )
    market.add_argument(
        "--csv",
        type=Path,
        metavar="FILE",
        help="with --model csv: rows timestamp,price_usd[,iv] (default: none)",
    )
    strat = parser.add_argument_group("strategies (--param/--grid apply to the one before)")
    strat.add_argument(
        "--strategy",
        action=_StrategyAction,
        metavar="NAME",
        dest="strategy_entries",
        help="a strategy to run, repeatable: interval, band, whalley_wilmott, zakamouline "
        "or a plugin (no default: give at least one)",
    )
    strat.add_argument(
        "--param",
        action=_StrategyAction,
        metavar="KEY=VALUE",
        dest="strategy_entries",
        help="a parameter of that strategy, TOML value, e.g. width_up=0.05 (coin) or "
        "interval_s=3600 (default: the strategy's own)",
    )
    strat.add_argument(
        "--grid",
        action=_StrategyAction,
        metavar="KEY=V1,V2|FILE.toml",
        dest="strategy_entries",
        help="KEY=V1,V2: run that strategy once per value; several --grid make their "
        "product. FILE.toml: a sweep over strategies, params, costs, models and seeds "
        "(README, 'Sweeps') (default: no grid)",
    )
    parser.set_defaults(grid_file=None)
    costs = parser.add_argument_group("costs (fractions of traded notional)")
    costs.add_argument(
        "--fee",
        type=float,
        default=None,
        help="exchange fee, fraction of notional, e.g. 0.0005 = 5 bp (default: 0; with "
        "--history the config's [paper] taker_fee_rate)",
    )
    costs.add_argument(
        "--spread",
        type=float,
        default=0.0,
        help="full bid-ask spread, fraction of notional; half is paid (default: %(default)s)",
    )
    costs.add_argument(
        "--slippage",
        type=float,
        default=0.0,
        help="slippage, fraction of notional (default: %(default)s)",
    )
    costs.add_argument(
        "--funding",
        type=float,
        default=0.0,
        help="perp funding rate, fraction per 8 h (default: %(default)s)",
    )
    costs.add_argument(
        "--carry",
        choices=("financed", "none"),
        default="financed",
        help="financed: the hedge account's cash accrues --rate; none: it does not "
        "(default: %(default)s)",
    )
    run = parser.add_argument_group("run")
    run.add_argument("--paths", type=int, default=10_000, help="price paths (default: %(default)s)")
    run.add_argument(
        "--steps",
        type=int,
        default=84,
        help="rebalancing steps over the book's last expiry (default: %(default)s)",
    )
    run.add_argument("--seed", type=int, default=0, help="random seed, >= 0 (default: %(default)s)")
    run.add_argument(
        "--chunk-paths",
        type=int,
        default=20_000,
        help="paths simulated together; bounds memory (default: %(default)s)",
    )
    run.add_argument(
        "--max-memory-gb",
        type=float,
        default=_half_the_memory_gb(),
        metavar="GB",
        help="refuse a run that needs more memory than this, GB (default: %(default).1f, "
        "half of this machine's)",
    )
    _add_option_hedge(parser)
    recorded = parser.add_argument_group(
        "recorded history (the daemon's own book, strategy and routes from --config)"
    )
    recorded.add_argument(
        "--history",
        type=Path,
        metavar="DIR",
        help="chain store to replay the config's [[sim.book]] over, hedged with its "
        "[strategy] and [[hedges]] routes (default: none, a Monte Carlo run)",
    )
    recorded.add_argument(
        "--from",
        dest="from_time",
        metavar="ISO",
        help="with --history: first snapshot, ISO 8601 with offset (default: the store's first)",
    )
    recorded.add_argument(
        "--to",
        dest="to_time",
        metavar="ISO",
        help="with --history: last snapshot, ISO 8601 with offset (default: the store's last)",
    )
    recorded.add_argument(
        "--mark",
        choices=("mark", "mid", "svi"),
        default="mark",
        help="with --history: value options at the venue's mark, the bid/ask mid, or the "
        "raw-SVI smile fitted to each snapshot's expiry (default: %(default)s)",
    )
    add_scheduler(run)
    run.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="with --grid FILE.toml: store each finished cell group there as Parquet "
        "(default: none)",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="with --out: continue the sweep stored there, skipping the groups it holds",
    )
    run.add_argument(
        "--risk-budget",
        type=float,
        action="append",
        default=[],
        metavar="USD",
        help="with --grid FILE.toml: report the cheapest cell whose P&L std is at most "
        "this, repeatable (default: the frontier only)",
    )
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    run.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png",
        help="write P&L distributions, the cost-risk frontier and sample paths; with --grid "
        "FILE.toml, the frontier per scenario (default: none)",
    )


def _add_option_hedge(parser: argparse.ArgumentParser) -> None:
    """``--option-hedge`` and its parameters."""
    hedge = parser.add_argument_group(
        "option hedge (vega limits on the whole book, proposals auto-approved; Monte Carlo runs)"
    )
    hedge.add_argument(
        "--option-hedge",
        action="store_true",
        help="also run every path with the option-hedge loop on and report both (default: off)",
    )
    hedge.add_argument(
        "--hard-vega",
        type=float,
        metavar="USD",
        help="|standardised vega| past which a path hedges with options, USD per vol point "
        "(default: the config's [greek_limits] hard_vega_usd_per_volpt on bucket all)",
    )
    hedge.add_argument(
        "--soft-vega",
        type=float,
        metavar="USD",
        help="|standardised vega| the hedge brings it back to, USD per vol point (default: the "
        "config's soft_vega_usd_per_volpt on bucket all, else --hard-vega)",
    )
    hedge.add_argument(
        "--hedge-tenor",
        type=float,
        default=None,
        metavar="DAYS",
        help="days to expiry of the at-the-money call hedged with, at least the horizon; with "
        "--history the shortest tenor of the listed call (default: 90; with --history 0, the "
        "nearest expiry after the range)",
    )
    hedge.add_argument(
        "--hedge-lot",
        type=float,
        default=None,
        metavar="COIN",
        help="lot of that call, coin (default: 0.1)",
    )
    hedge.add_argument(
        "--hedge-cost",
        type=float,
        default=None,
        metavar="FRAC",
        help="cost of an option trade, fraction of its premium: half-spread plus fee; not with "
        "--history, which fills at the recorded bid/ask plus [options_hedge] fee_frac "
        "(default: 0.02)",
    )


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run the backtest and print the report (0), or one error line on stderr (2)."""
    if args.option_hedge and args.grid_file is not None:
        print(
            "deltabot backtest: error: --option-hedge runs one book, not a --grid FILE.toml sweep",
            file=sys.stderr,
        )
        return 2
    if args.history is not None:
        return _run_recorded(args, environ)
    if args.grid_file is not None:
        from bot.commands.backtest_sweep import run_sweep_command  # noqa: PLC0415 - no cycle

        return run_sweep_command(args, environ)
    if args.out is not None or args.resume or args.risk_budget:
        print(
            "deltabot backtest: error: --out, --resume and --risk-budget need --grid FILE.toml",
            file=sys.stderr,
        )
        return 2
    return _run_monte_carlo(args, environ)


def _run_monte_carlo(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Model paths: the report of one run, or with ``--option-hedge`` of two on the same
    paths (with the loop, and without it beside); JSON and chart."""
    compute = compute_config(args, environ)
    if compute is None:
        return 2
    try:
        scheduler, workers = compute_of(args, compute)
        specs = specs_of(args.strategy_entries or [])
        book = config_book(args, environ) or book_of(args)
        hedging = option_hedge_of(args, environ)
        model = model_of(args)
        costs = Costs(args.fee or 0.0, args.spread, args.slippage, args.funding)
        runs = (None,) if hedging is None else (None, hedging)
        results = []
        with (
            RunProgress(sys.stderr, "backtest", 1.0, after_s=_PROGRESS_AFTER_S) as shown,
            open_runner(scheduler, workers=workers, announce=shown.note) as runner,
        ):
            for r, option_hedge in enumerate(runs):

                def progress(done: int, total: int, r: int = r) -> None:
                    shown.update((r + done / total) / len(runs), f"{done}/{total} chunks")

                results.append(
                    run_backtest(
                        book,
                        model,
                        specs,
                        costs,
                        paths=args.paths,
                        steps=args.steps,
                        seed=args.seed,
                        carry=args.carry,
                        rate=args.rate,
                        pricing_vol=args.pricing_vol,
                        chunk_paths=args.chunk_paths,
                        runner=runner,
                        progress=progress,
                        max_memory_bytes=args.max_memory_gb * 1e9,
                        option_hedge=option_hedge,
                    )
                )
    except ValueError as exc:  # a bad book, price file or strategy among them
        print(f"deltabot backtest: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # the runner's block has cancelled the chunks, stopped the cluster
        print("deltabot backtest: interrupted", file=sys.stderr)
        return 130
    # With the option hedge, its run is the one reported, the plain one beside it.
    result, without = (results[0], None) if len(results) == 1 else (results[1], results[0])
    print(
        json.dumps(to_json_dict(result, without), indent=2)
        if args.json
        else format_table(result, without)
    )
    if not args.plot:
        return 0
    # matplotlib (~0.5 s to import) only when a plot is asked for.
    from bot.backtest.plot import write_plot  # noqa: PLC0415

    return _chart(args, lambda path: write_plot(result, path, without))


def _chart(args: argparse.Namespace, write: Callable[[Path], None]) -> int:
    """``write`` the ``--plot`` PNG and say where (0), or one error line (2)."""
    try:
        write(args.plot)
    except OSError as exc:
        print(f"deltabot backtest: error: cannot write {args.plot}: {exc}", file=sys.stderr)
        return 2
    # On stderr beside --json, so stdout stays one JSON document.
    print(f"\nchart: {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


_HEDGE_FLAGS = ("hard_vega", "soft_vega", "hedge_tenor", "hedge_lot", "hedge_cost")
"""The option hedge's parameters: given without --option-hedge, they are a mistake."""


def _hedge_asked(args: argparse.Namespace) -> bool:
    """Whether ``--option-hedge`` is on; ValueError for its parameters given without it."""
    if args.option_hedge:
        return True
    given = [f"--{f.replace('_', '-')}" for f in _HEDGE_FLAGS if getattr(args, f) is not None]
    if given:
        raise ValueError(f"{', '.join(given)}: only with --option-hedge")
    return False


def _vega_limits(hard: float, soft: float | None) -> tuple[float, float]:
    """``--hard-vega`` and ``--soft-vega`` (default: the hard one) checked."""
    hard = _positive(hard, "--hard-vega")
    soft = hard if soft is None else _positive(soft, "--soft-vega")
    if soft > hard:
        raise ValueError(f"--soft-vega {soft:g} is above --hard-vega {hard:g} (USD per vol point)")
    return hard, soft


def option_hedge_of(args: argparse.Namespace, environ: Mapping[str, str]) -> OptionHedgeSpec | None:
    """The Monte Carlo option-hedge loop ``--option-hedge`` asks for (None: off); ValueError
    naming the flag or the missing limit."""
    if not _hedge_asked(args):
        return None
    hard, soft = args.hard_vega, args.soft_vega
    if hard is None:
        hard, soft_default = _config_vega_limit(args, environ)
        soft = soft_default if soft is None else soft
    hard, soft = _vega_limits(hard, soft)
    return OptionHedgeSpec(
        hard_vega_usd_per_volpt=hard,
        soft_vega_usd_per_volpt=soft,
        tenor_days=_positive(_or(args.hedge_tenor, 90.0), "--hedge-tenor"),
        lot_coin=_positive(_or(args.hedge_lot, 0.1), "--hedge-lot"),
        cost_frac=_positive(_or(args.hedge_cost, 0.02), "--hedge-cost", zero=True),
    )


def recorded_hedge_of(args: argparse.Namespace, config: Config) -> ChainOptionHedge | None:
    """The recorded run's option-hedge loop (None: off): ``--hard-vega``/``--soft-vega`` for
    every underlying of the book, else each one's ``[greek_limits]`` limit on bucket all;
    ValueError naming the flag or the missing limit."""
    if not _hedge_asked(args):
        return None
    if args.hedge_cost is not None:
        raise ValueError(
            "--hedge-cost is for Monte Carlo runs: --history fills options at the recorded "
            "bid/ask and charges [options_hedge] fee_frac"
        )
    if args.hard_vega is None and args.soft_vega is not None:
        raise ValueError("--soft-vega needs --hard-vega with --history")
    from bot.app.chain_backtest import config_option_hedge  # noqa: PLC0415

    return config_option_hedge(
        config,
        limits=None if args.hard_vega is None else _vega_limits(args.hard_vega, args.soft_vega),
        lot_coin=_positive(_or(args.hedge_lot, 0.1), "--hedge-lot"),
        min_tenor_days=_positive(_or(args.hedge_tenor, 0.0), "--hedge-tenor", zero=True),
    )


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _positive(value: float, flag: str, *, zero: bool = False) -> float:
    """``value`` if finite and > 0 (>= 0 with ``zero``); ValueError naming ``flag``."""
    if math.isfinite(value) and (value > 0 or (zero and value == 0)):
        return value
    raise ValueError(f"{flag} {value:g}: must be a finite number {'>=' if zero else '>'} 0")


def _config_vega_limit(
    args: argparse.Namespace, environ: Mapping[str, str]
) -> tuple[float, float | None]:
    """(hard, soft) standardised vega limits on bucket ``all`` of the daemon config's
    ``[greek_limits]`` for the book's underlying; ValueError saying what to give instead."""
    path = getattr(args, "config", None)
    if path is None and args.book is not None and _is_daemon_config(args.book):
        path = args.book
    if path is None:
        raise ValueError(
            "--option-hedge needs --hard-vega (and --soft-vega), or a daemon config with a "
            "[greek_limits] vega limit (--config)"
        )
    from bot.app.chain_backtest import config_vega_limit  # noqa: PLC0415

    config = _daemon_config(path, environ)
    try:
        return config_vega_limit(config, args.underlying)
    except ValueError as exc:
        raise ValueError(f"{path}: --option-hedge takes {exc}; or give --hard-vega") from None


def compute_config(args: argparse.Namespace, environ: Mapping[str, str]) -> ComputeConfig | None:
    """``--config``'s [compute] if one is given, else the defaults; None after printing the
    config's problems (the caller exits 2). A backtest needs no config otherwise."""
    if getattr(args, "config", None) is None:
        return ComputeConfig()
    config = load_or_report(args.config, environ)
    return None if config is None else config.compute


def _half_the_memory_gb() -> float:
    """Half of this machine's physical memory, in GB."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2e9


def specs_of(entries: list[list[Any]]) -> list[StrategySpec]:
    if not entries:
        raise ValueError("give at least one --strategy NAME (e.g. --strategy band)")
    specs = []
    for name, params, grid in entries:
        keys = list(grid)
        for combo in itertools.product(*(grid[k] for k in keys)):
            specs.append(StrategySpec(name, {**params, **dict(zip(keys, combo, strict=True))}))
    return specs


def book_of(args: argparse.Namespace) -> Book:
    if args.book and args.option:
        raise ValueError("give either --book or --option, not both")
    if args.book:
        book = load_book_toml(args.book)
    elif args.option:
        book = Book(tuple(parse_leg(text) for text in args.option))
    else:
        raise ValueError("give the book: --option call:100:0.0833:-1 (repeatable) or --book")
    if args.initial_hedge is not None:
        book = Book(book.legs, args.initial_hedge)
    return book


def config_book(args: argparse.Namespace, environ: Mapping[str, str]) -> Book | None:
    """A daemon config given as ``--book``: its book, and its spot, vol and fee as the
    defaults of ``--spot``, ``--vol`` and ``--fee``; None for a book file."""
    if args.book is None or args.option or not _is_daemon_config(args.book):
        return None
    from bot.app.chain_backtest import config_mc_book  # noqa: PLC0415

    found = config_mc_book(_daemon_config(args.book, environ), args.underlying)
    args.spot = found.spot_usd if args.spot is None else args.spot
    args.vol = found.vol if args.vol is None else args.vol
    args.fee = found.fee_frac if args.fee is None else args.fee
    book = found.book
    return book if args.initial_hedge is None else Book(book.legs, args.initial_hedge)


def _daemon_config(path: Path, environ: Mapping[str, str]) -> Config:
    """The daemon config at ``path``; ValueError listing its problems."""
    from bot.config import ConfigError, load_config  # noqa: PLC0415

    try:
        return load_config(path, environ)
    except ConfigError as exc:
        problems = "; ".join(f"{loc}: {message}" for loc, message in exc.errors)
        raise ValueError(f"{path}: invalid config: {problems}") from None


def _is_daemon_config(path: Path) -> bool:
    """Whether ``path`` holds more than a book file's keys (a daemon config)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False  # load_book_toml says what is wrong
    return bool(set(data) - {"options", "initial_hedge_coin"})


def model_of(args: argparse.Namespace) -> PathModel:
    args.spot = 100.0 if args.spot is None else args.spot
    args.vol = 0.2 if args.vol is None else args.vol
    drift = args.rate if args.drift is None else args.drift
    if args.model != "csv" and args.csv:
        raise ValueError("--csv needs --model csv")
    if args.model == "gbm":
        return GBM(args.spot, args.vol, drift)
    if args.model == "merton":
        return Merton(
            args.spot, args.vol, args.jump_intensity, args.jump_mean, args.jump_std, drift
        )
    if args.model == "heston":
        variance = args.vol**2
        theta = variance if args.theta is None else args.theta
        return Heston(args.spot, variance, args.kappa, theta, args.xi, args.rho, drift)
    if args.csv is None:
        raise ValueError("--model csv needs --csv FILE")
    return Historical(read_price_csv(args.csv), args.spot)


def _run_recorded(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """``--history``: the config's book over a chain store; report, JSON and chart."""
    # pyarrow and the config only for a recorded run.
    from bot.app.chain_backtest import run_recorded  # noqa: PLC0415
    from bot.backtest.chain_report import format_report, to_json_dict  # noqa: PLC0415

    config = load_or_report(getattr(args, "config", None), environ)
    if config is None:
        return 2
    result, status = on_runner(
        "deltabot backtest",
        args,
        config.compute,
        lambda runner, progress: run_recorded(
            config,
            args.history,
            extra=specs_of(args.strategy_entries) if args.strategy_entries else [],
            mark=args.mark,
            fee_frac=args.fee,
            slippage_frac=args.slippage,
            from_ms=_iso_ms(args.from_time, "--from"),
            to_ms=_iso_ms(args.to_time, "--to"),
            option_hedge=recorded_hedge_of(args, config),
            runner=runner,
            progress=progress,
        ),
    )
    if result is None:
        return status
    print(json.dumps(to_json_dict(result), indent=2) if args.json else format_report(result))
    if not args.plot:
        return 0
    from bot.backtest.chain_plot import write_chain_plot  # noqa: PLC0415

    return _chart(args, lambda path: write_chain_plot(result, path))


def _iso_ms(text: str | None, option: str) -> int | None:
    """An ISO 8601 time with an offset as epoch ms; None stays None."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{option} {text!r}: not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"{option} {text!r}: give a UTC offset, e.g. 2026-12-01T08:00:00Z")
    return round(moment.timestamp() * 1000)
