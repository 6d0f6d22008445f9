"""Config validation rules, their messages, environment overrides and immutability."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import (
    Config,
    ConfigError,
    Exchange,
    Mode,
    Numeraire,
    VenueRole,
    load_config,
)
from bot.domain.instruments import InstrumentKind, OptionType, Settlement
from bot.ops.logging import LogFormat, LogLevel

BASE = """
[[venues]]
name = "deribit-a"
exchange = "deribit"
role = ["options", "hedge"]

[sim]
start = 2026-12-01T08:00:00Z

[[sim.underlyings]]
name = "BTC"
spot_usd = 60000.0
vol = 0.6
"""

OPTION = """
[[sim.book]]
venue = "deribit-a"
underlying = "BTC"
kind = "option"
settlement = "inverse"
option_type = "call"
strike_usd = 65000.0
expiry = 2026-12-25T08:00:00Z
size = -5.0
"""


@pytest.fixture
def write(tmp_path: Path):
    def _write(text: str) -> Path:
        path = tmp_path / "deltabot.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def errors(write):
    """Problems of a config text as {key_path: message}; fails if it loads."""

    def _errors(text: str, environ: dict[str, str] | None = None) -> dict[str, str]:
        with pytest.raises(ConfigError) as info:
            load_config(write(text), environ or {})
        return dict(info.value.errors)

    return _errors


def test_minimal_config_gets_documented_defaults(write) -> None:
    """A minimal file loads with mode sim, usd numeraire, info/auto logging and venue defaults."""
    config = load_config(write(BASE), {})
    assert config.mode is Mode.SIM
    assert config.numeraire is Numeraire.USD
    assert (config.logging.level, config.logging.format) == (LogLevel.INFO, LogFormat.AUTO)
    venue = config.venues[0]
    assert (venue.exchange, venue.account, venue.testnet, venue.api_url) == (
        Exchange.DERIBIT,
        "main",
        False,
        None,
    )
    assert venue.role == (VenueRole.OPTIONS, VenueRole.HEDGE)
    assert config.sim is not None
    assert (config.sim.seed, config.sim.underlyings[0].rate, config.sim.book) == (0, 0.0, ())


def test_option_position_is_typed_and_in_utc(write) -> None:
    """A book option parses to domain enums and a UTC expiry."""
    config = load_config(write(BASE + OPTION.replace("08:00:00Z", "10:00:00+02:00")), {})
    assert config.sim is not None
    pos = config.sim.book[0]
    assert (pos.kind, pos.settlement, pos.option_type) == (
        InstrumentKind.OPTION,
        Settlement.INVERSE,
        OptionType.CALL,
    )
    assert pos.expiry == datetime(2026, 12, 25, 8, tzinfo=UTC)
    assert pos.expiry.tzinfo is UTC


def test_unknown_top_level_key_lists_allowed_keys(errors) -> None:
    """An unknown top-level key is named, with the keys allowed there."""
    found = errors("modee = 'sim'\n" + BASE)
    assert found["modee"].startswith("unknown key (allowed here: mode, numeraire, logging")


def test_unknown_nested_key_is_reported_at_its_path(errors) -> None:
    """A misspelt key inside a venue is reported at venues[0].<key> with the venue's keys."""
    found = errors(BASE.replace('exchange = "deribit"', 'exchange = "deribit"\nrolee = []'))
    assert "venues[0].rolee" in found
    assert (
        "allowed here: name, exchange, account, role, testnet, api_url" in found["venues[0].rolee"]
    )


def test_underscore_key_is_unknown_not_a_settings_option(errors) -> None:
    """Keys like _env_prefix cannot reach pydantic-settings' init options."""
    found = errors("_env_prefix = 'X_'\n" + BASE)
    assert list(found) == ["_env_prefix"]
    assert found["_env_prefix"].startswith("unknown key (allowed here: mode, numeraire")


def test_wrong_type_names_path_and_value(errors) -> None:
    """A string where a number belongs names the field and echoes the value."""
    found = errors(BASE.replace("spot_usd = 60000.0", 'spot_usd = "lots"'))
    message = found["sim.underlyings[0].spot_usd"]
    assert "valid number" in message
    assert "'lots'" in message


def test_negative_limit_is_refused(errors) -> None:
    """A negative spot price fails with 'greater than 0'."""
    found = errors(BASE.replace("spot_usd = 60000.0", "spot_usd = -1.0"))
    assert "greater than 0" in found["sim.underlyings[0].spot_usd"]


def test_vol_in_percent_is_refused(errors) -> None:
    """vol = 60 (percent, not a fraction) is out of range."""
    found = errors(BASE.replace("vol = 0.6", "vol = 60"))
    assert "less than or equal to 5" in found["sim.underlyings[0].vol"]


def test_nan_is_refused(errors) -> None:
    """NaN never passes as a number."""
    found = errors(BASE.replace("vol = 0.6", "vol = nan"))
    assert "sim.underlyings[0].vol" in found


def test_empty_venue_list_is_refused(errors) -> None:
    """venues = [] says at least one venue is needed."""
    found = errors("venues = []\n[sim]" + BASE.split("[sim]")[1])
    assert found == {"venues": "at least one venue is needed: add a [[venues]] table"}


def test_missing_venues_is_required(errors) -> None:
    """A file without [[venues]] reports the missing key."""
    found = errors("[sim]" + BASE.split("[sim]")[1])
    assert found == {"venues": "required key is missing"}


def test_duplicate_venue_name_points_at_the_second(errors) -> None:
    """The repeated venue name is reported at the later entry, naming the first."""
    found = errors(
        BASE + '[[venues]]\nname = "deribit-a"\nexchange = "deribit"\nrole = ["hedge"]\n'
    )
    assert found == {"venues[1].name": "duplicate venue name 'deribit-a' (also venues[0])"}


@pytest.mark.parametrize("name", ["Deribit-A", "deribit_a", "-a", "a-", "a--b", "1a", "a" * 33])
def test_bad_venue_name_is_refused(errors, name: str) -> None:
    """Venue names are lowercase letters, digits and single '-', starting with a letter."""
    found = errors(BASE.replace('name = "deribit-a"', f'name = "{name}"'))
    assert found["venues[0].name"].startswith("a venue name is 1-32 lowercase letters")


@pytest.mark.parametrize(
    ("old", "new", "path", "choices"),
    [
        ('exchange = "deribit"', 'exchange = "kraken"', "venues[0].exchange", "'okx', 'bybit'"),
        ("[[venues]]", 'mode = "yolo"\n[[venues]]', "mode", "'sim', 'paper', 'sandbox'"),
        ("[[venues]]", 'numeraire = "eur"\n[[venues]]', "numeraire", "'usd' or 'coin'"),
        ('role = ["options", "hedge"]', 'role = ["maker"]', "venues[0].role[0]", "'options'"),
        ('name = "BTC"', 'name = "SOL"', "sim.underlyings[0].name", "'BTC' or 'ETH'"),
    ],
)
def test_bad_enum_lists_choices(errors, old: str, new: str, path: str, choices: str) -> None:
    """A value outside an enum is reported at its path with the allowed values."""
    found = errors(BASE.replace(old, new, 1))
    assert choices in found[path]


def test_bad_logging_level_lists_choices(errors) -> None:
    """[logging] level accepts only debug/info/warning/error."""
    found = errors(BASE + '[logging]\nlevel = "loud"\n')
    assert found["logging.level"].startswith("Input should be 'debug', 'info', 'warning' or")


@pytest.mark.parametrize(
    ("role", "expected"),
    [("[]", "give at least one role"), ('["hedge", "hedge"]', "a role is listed twice")],
)
def test_role_list_is_non_empty_and_unique(errors, role: str, expected: str) -> None:
    """A venue's role list must be non-empty and have no repeats."""
    text = BASE.replace('role = ["options", "hedge"]', f"role = {role}")
    text += '[[venues]]\nname = "b"\nexchange = "okx"\nrole = ["hedge"]\n'
    assert errors(text)["venues[0].role"].startswith(expected)


@pytest.mark.parametrize("exchange", ["okx", "bybit", "binance"])
def test_sim_refuses_an_exchange_the_simulator_cannot_serve(errors, exchange: str) -> None:
    """Mode sim refuses a venue the simulator cannot speak for, naming the exchanges it serves."""
    found = errors(BASE + f'[[venues]]\nname = "b"\nexchange = "{exchange}"\nrole = ["hedge"]\n')
    assert found["venues[1].exchange"] == (
        f"the simulator cannot serve {exchange}: mode sim simulates deribit and binanceusdm"
    )


def test_some_venue_must_hedge(errors) -> None:
    """Without any venue in role 'hedge' there is nowhere to hedge."""
    found = errors(BASE.replace('role = ["options", "hedge"]', 'role = ["options"]'))
    assert found == {"venues": "no venue has role 'hedge': there is nowhere to hedge"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://example.com", "must be an http(s) URL"),
        ("http://", "must be an http(s) URL"),
        ("https://user:pw@example.com", "must not carry credentials"),
    ],
)
def test_api_url_is_checked(errors, url: str, expected: str) -> None:
    """api_url must be an http(s) URL with a host and no user:password."""
    found = errors(BASE.replace('exchange = "deribit"', f'exchange = "deribit"\napi_url = "{url}"'))
    assert expected in found["venues[0].api_url"]


def test_sandbox_needs_testnet_and_live_refuses_it(errors) -> None:
    """Mode sandbox requires testnet venues; mode live forbids them."""
    sandbox = errors('mode = "sandbox"\n' + BASE)
    assert sandbox == {"venues[0].testnet": "mode sandbox trades on testnets only: set true"}
    testnet = BASE.replace('role = ["options", "hedge"]', 'role = ["hedge"]\ntestnet = true')
    live = errors('mode = "live"\n' + testnet)
    assert live == {"venues[0].testnet": "mode live cannot use a testnet venue"}


def test_mode_sim_needs_sim_section(errors, write) -> None:
    """[sim] is required in mode sim and optional otherwise."""
    venues_only = BASE.split("[sim]", maxsplit=1)[0]
    assert errors(venues_only) == {"sim": "mode sim needs a [sim] section"}
    assert load_config(write('mode = "paper"\n' + venues_only), {}).sim is None


def test_book_entry_naming_unknown_venue(errors) -> None:
    """A book position on an unconfigured venue is reported at its venue key."""
    found = errors(BASE + OPTION.replace('venue = "deribit-a"', 'venue = "deribit-x"'))
    assert found == {"sim.book[0].venue": "venue 'deribit-x' is not configured (have: deribit-a)"}


def test_option_needs_strike_type_and_expiry(errors) -> None:
    """An option without strike, type and expiry gets one error per missing key."""
    bare = "\n".join(
        line
        for line in OPTION.splitlines()
        if not line.startswith(("option_type", "strike", "exp"))
    )
    found = errors(BASE + bare)
    assert found == {
        "sim.book[0].option_type": "option positions need option_type",
        "sim.book[0].strike_usd": "option positions need strike_usd",
        "sim.book[0].expiry": "option positions need expiry",
    }


def test_perpetual_has_no_strike_type_or_expiry(errors) -> None:
    """A perpetual carrying option fields gets one error per extra key."""
    found = errors(BASE + OPTION.replace('kind = "option"', 'kind = "perpetual"'))
    assert set(found) == {
        "sim.book[0].option_type",
        "sim.book[0].strike_usd",
        "sim.book[0].expiry",
    }
    assert found["sim.book[0].expiry"] == "perpetual positions have no expiry"


def test_future_needs_expiry_but_no_strike(errors) -> None:
    """A future needs an expiry and refuses a strike."""
    text = OPTION.replace('kind = "option"', 'kind = "future"').replace(
        'option_type = "call"\n', ""
    )
    found = errors(BASE + text.replace("expiry = 2026-12-25T08:00:00Z\n", ""))
    assert found == {
        "sim.book[0].strike_usd": "future positions have no strike_usd",
        "sim.book[0].expiry": "future positions need expiry",
    }


def test_spot_is_not_a_book_kind(errors) -> None:
    """kind = 'spot' is refused in the book."""
    found = errors(BASE + OPTION.replace('kind = "option"', 'kind = "spot"'))
    assert found["sim.book[0].kind"].startswith("kind must be one of option, future, perpetual")


def test_expiry_must_follow_start(errors) -> None:
    """An expiry at or before sim.start is reported at the entry's expiry."""
    found = errors(BASE + OPTION.replace("2026-12-25T08:00:00Z", "2026-12-01T08:00:00Z"))
    assert found == {
        "sim.book[0].expiry": (
            "expiry 2026-12-01T08:00:00+00:00 is not after sim.start 2026-12-01T08:00:00+00:00"
        )
    }


def test_naive_datetime_needs_offset(errors) -> None:
    """A TOML local datetime (no offset) is refused with an example of the right form."""
    found = errors(BASE.replace("start = 2026-12-01T08:00:00Z", "start = 2026-12-01T08:00:00"))
    assert found["sim.start"].startswith("needs a UTC offset, e.g. 2026-12-01T08:00:00Z")


def test_book_underlying_must_be_configured(errors) -> None:
    """A position on an underlying missing from [[sim.underlyings]] is reported."""
    found = errors(BASE + OPTION.replace('underlying = "BTC"', 'underlying = "ETH"'))
    assert found == {"sim.book[0].underlying": "ETH is not in [[sim.underlyings]]"}


def test_underlyings_must_not_be_empty(errors) -> None:
    """sim.underlyings = [] says at least one is needed."""
    found = errors(BASE.split("[[sim.underlyings]]", maxsplit=1)[0] + "underlyings = []\n")
    assert found == {
        "sim.underlyings": "at least one underlying is needed: add a [[sim.underlyings]] table"
    }


def test_duplicate_underlying_is_refused(errors) -> None:
    """The same underlying twice is reported at the second entry."""
    found = errors(BASE + '[[sim.underlyings]]\nname = "BTC"\nspot_usd = 1.0\nvol = 0.5\n')
    assert found == {"sim.underlyings[1].name": "BTC is configured twice (also [0])"}


def test_zero_size_is_refused(errors) -> None:
    """A zero-size position is refused."""
    found = errors(BASE + OPTION.replace("size = -5.0", "size = 0"))
    assert found == {"sim.book[0].size": "size is zero: leave the position out instead"}


def test_every_problem_is_reported_at_once(errors) -> None:
    """Problems in different sections and entries all come back together."""
    text = 'numeraire = "eur"\n' + BASE.replace("vol = 0.6", "vol = -1")
    text += '[logging]\nformat = "xml"\n'
    text += '[[venues]]\nname = "deribit-a"\nexchange = "deribit"\nrole = ["hedge"]\n'
    assert set(errors(text)) == {
        "numeraire",
        "logging.format",
        "venues[1].name",
        "sim.underlyings[0].vol",
    }


@pytest.mark.parametrize(
    ("key", "testnet", "variable"),
    [
        ("api_key", False, "DELTABOT_VENUE_DERIBIT_A_API_KEY"),
        ("apiKey", True, "DELTABOT_VENUE_DERIBIT_A_TESTNET_API_KEY"),
        ("secret", False, "DELTABOT_VENUE_DERIBIT_A_API_SECRET"),
        ("password", False, "DELTABOT_VENUE_DERIBIT_A_API_PASSWORD"),
    ],
)
def test_secret_in_toml_names_the_variable(write, key: str, testnet: bool, variable: str) -> None:
    """A secret-looking venue key says secrets come from the environment and names the variable."""
    extra = f'{key} = "hunter2-value"\ntestnet = {str(testnet).lower()}'
    text = 'mode = "paper"\n' + BASE.replace(
        'exchange = "deribit"', f'exchange = "deribit"\n{extra}'
    )
    with pytest.raises(ConfigError) as info:
        load_config(write(text), {})
    found = dict(info.value.errors)
    assert list(found) == [f"venues[0].{key}"]
    assert "only from the environment" in found[f"venues[0].{key}"]
    assert f"set {variable} instead" in found[f"venues[0].{key}"]
    assert "hunter2-value" not in str(info.value)


def test_secret_outside_venues_is_refused_too(errors) -> None:
    """A secret-looking key anywhere (here [logging] token) is refused, not just unknown."""
    found = errors(BASE + '[logging]\ntoken = "abc123"\n')
    assert found["logging.token"].startswith("looks like a secret; secrets are never read")
    assert "abc123" not in str(found)


def test_toml_syntax_error_shows_line_and_column(write) -> None:
    """A TOML syntax error is one problem giving the line and column."""
    path = write('mode = "sim"\nnumeraire = \n' + BASE)
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    [(key_path, message)] = info.value.errors
    assert key_path == str(path)
    assert message.startswith("TOML syntax error")
    assert "line 2, column 13" in message


def test_missing_file_says_so(tmp_path: Path) -> None:
    """A missing file is one problem naming the file."""
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert info.value.errors == [(str(path), "config file not found")]


def test_non_utf8_file_says_so(tmp_path: Path) -> None:
    """A file that is not UTF-8 text is reported, not a traceback."""
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"mode = '\xe9'\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert info.value.errors[0][1].startswith("config file is not UTF-8 text")


def test_config_error_str_lists_every_problem() -> None:
    """str(ConfigError) is one 'key.path: message' line per problem."""
    err = ConfigError([("venues[1].name", "bad"), ("", "general")])
    assert str(err) == "venues[1].name: bad\ngeneral"


def test_models_are_frozen(write) -> None:
    """Config and its sections refuse assignment, and lists are tuples."""
    config = load_config(write(BASE + OPTION), {})
    with pytest.raises(ValidationError, match="frozen"):
        config.mode = Mode.LIVE  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        config.venues[0].testnet = True  # type: ignore[misc]
    assert config.sim is not None
    with pytest.raises(ValidationError, match="frozen"):
        config.sim.book[0].size = 1.0  # type: ignore[misc]
    assert isinstance(config.venues, tuple)
    assert isinstance(config.sim.book, tuple)


def test_direct_construction_validates_too() -> None:
    """Cross-field rules hold when a Config is built in code, not only when loaded."""
    with pytest.raises(ValidationError) as info:
        Config(
            mode=Mode.PAPER,
            venues=[{"name": "a", "exchange": "okx", "role": ["hedge"]}] * 2,
        )
    assert [e["loc"] for e in info.value.errors()] == [("venues", 1, "name")]


def test_config_ignores_process_environment(write, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the injected environment counts: os.environ is never read."""
    monkeypatch.setenv("DELTABOT_MODE", "live")
    monkeypatch.setenv("DELTABOT_LOGGING__LEVEL", "debug")
    assert load_config(write(BASE), {}).mode is Mode.SIM
    built = Config(mode=Mode.PAPER, venues=[{"name": "a", "exchange": "okx", "role": ["hedge"]}])
    assert (built.mode, built.logging.level) == (Mode.PAPER, LogLevel.INFO)


BALANCE = """
[[sim.balances]]
venue = "deribit-a"
currency = "BTC"
amount = 10.0
"""


def test_balances_load_per_venue_and_currency(write) -> None:
    """A [[sim.balances]] entry loads with its venue, currency and amount."""
    config = load_config(write(BASE + BALANCE), {})
    assert config.sim is not None
    (balance,) = config.sim.balances
    assert (balance.venue, balance.currency, balance.amount) == ("deribit-a", "BTC", 10.0)


def test_balance_on_unknown_venue_is_reported(errors) -> None:
    """Collateral on an unconfigured venue is reported at its venue key."""
    found = errors(BASE + BALANCE.replace('venue = "deribit-a"', 'venue = "deribit-x"'))
    assert found == {
        "sim.balances[0].venue": "venue 'deribit-x' is not configured (have: deribit-a)"
    }


def _with_basis(table: str) -> str:
    start = "start = 2026-12-01T08:00:00Z\n"
    return BASE.replace(start, f"{start}perp_basis_frac = {table}\n")


def test_perp_basis_loads_per_venue_and_refuses_unknown_venues_and_wide_values(
    write, errors
) -> None:
    """sim.perp_basis_frac loads by venue; an unconfigured venue or a value outside
    [-0.05, 0.05] is reported at its key."""
    config = load_config(write(_with_basis("{ deribit-a = -0.0002 }")), {})
    assert config.sim is not None and config.sim.perp_basis_frac == {"deribit-a": -0.0002}
    found = errors(_with_basis("{ deribit-x = 0.0 }"))
    assert found == {
        "sim.perp_basis_frac.deribit-x": "venue 'deribit-x' is not configured (have: deribit-a)"
    }
    assert set(errors(_with_basis("{ deribit-a = 0.06 }"))) == {"sim.perp_basis_frac.deribit-a"}


def test_balance_given_twice_and_negative_balance_are_refused(errors) -> None:
    """The same venue and currency twice, or a negative amount, are each reported."""
    found = errors(BASE + BALANCE + BALANCE.replace("10.0", "-1.0"))
    assert (
        found["sim.balances[1].amount"] == "Input should be greater than or equal to 0 (got -1.0)"
    )
    twice = errors(BASE + BALANCE + BALANCE)
    assert twice == {"sim.balances[1].currency": "BTC on deribit-a is given twice (also [0])"}


def test_sections_naming_unconfigured_venues_are_refused_at_their_key(errors) -> None:
    """[[hedges]], [[paper.cash]] and [[collateral.venues]] must name configured venues."""
    found = errors(
        BASE
        + '[[hedges]]\nunderlying = "BTC"\nvenue = "nope"\nsymbol = "BTC/USD:BTC"\n'
        + '[[paper.cash]]\nvenue = "nope"\ncurrency = "BTC"\namount = 1.0\n'
        + '[[collateral.venues]]\nname = "nope"\n'
    )
    assert set(found) == {"hedges[0].venue", "paper.cash[0].venue", "collateral.venues[0].name"}
    assert all("'nope' is not configured" in message for message in found.values())


def test_subaccount_identifiers_and_wallets_are_checked_per_exchange(errors) -> None:
    """A Bybit member UID must be digits, and Deribit takes no sub-account wallet."""
    bybit = BASE.replace(
        'role = ["options", "hedge"]',
        'role = ["options", "hedge"]\n[[venues]]\nname = "bybit-a"\nexchange = "bybit"\n'
        'role = ["hedge"]\nsubaccounts = { main = "not-a-uid" }',
    )
    found = errors(bybit)
    assert list(found) == ["venues[1].subaccounts"]
    deribit = BASE.replace(
        'role = ["options", "hedge"]', 'role = ["options", "hedge"]\nsubaccount_wallet = "18"'
    )
    found = errors(deribit)
    assert list(found) == ["venues[0].subaccount_wallet"]
    assert "use none (leave it unset)" in found["venues[0].subaccount_wallet"]


HEDGE = '[[hedges]]\nunderlying = "BTC"\nvenue = "deribit-a"\nsymbol = "BTC/USD:BTC"\n'


def test_integer_is_a_float_but_a_float_is_no_integer(errors, write) -> None:
    """Strict types keep TOML 30 for 30.0 (a float key) and refuse 30.0 for a count."""
    assert load_config(write(BASE + "[risk]\norder_window_s = 30\n"), {}).risk.order_window_s == 30
    found = errors(BASE + "[risk]\nmax_orders_per_window = 30.0\n")
    assert found == {"risk.max_orders_per_window": "Input should be a valid integer (got 30.0)"}


def test_datetime_may_be_iso_text_but_not_a_number(errors, write) -> None:
    """sim.start takes a TOML datetime or its ISO-8601 text; a number is no datetime."""
    text = BASE.replace("start = 2026-12-01T08:00:00Z", 'start = "2026-12-01T08:00:00Z"')
    assert load_config(write(text), {}).sim.start == datetime(2026, 12, 1, 8, tzinfo=UTC)
    found = errors(BASE.replace("start = 2026-12-01T08:00:00Z", "start = 1796112000"))
    assert list(found) == ["sim.start"]


@pytest.mark.parametrize(
    ("extra", "key", "message"),
    [
        (
            '[margin]\nvenue_models = { deribit-x = "portfolio" }\n',
            "margin.venue_models.deribit-x",
            "venue 'deribit-x' is not configured (have: deribit-a)",
        ),
        (
            '[stress]\nfreeze_venues = ["deribit-a", "nope"]\n',
            "stress.freeze_venues[1]",
            "venue 'nope' is not configured (have: deribit-a)",
        ),
        (
            '[[stress.scenarios]]\nname = "x"\nlost_venues = ["nope"]\n',
            "stress.scenarios[0].lost_venues[0]",
            "venue 'nope' is not configured (have: deribit-a)",
        ),
        (
            '[[stress.scenarios]]\nname = "x"\nprice_move_frac = { XBT = -0.3 }\n',
            "stress.scenarios[0].price_move_frac.XBT",
            "underlying 'XBT' is not configured (have: BTC)",
        ),
        (
            '[[paper.cash]]\nvenue = "deribit-a"\ncurrency = "USDD"\namount = 1.0\n',
            "paper.cash[0].currency",
            "currency 'USDD' is not configured (have: BTC, USDC, USDT)",
        ),
        (
            "[collateral]\nidle_cost_frac_per_year = { BTC = 0.0, USCD = 0.05 }\n",
            "collateral.idle_cost_frac_per_year.USCD",
            "currency 'USCD' is not configured (have: BTC, USDC, USDT)",
        ),
        (
            '[[sim.balances]]\nvenue = "deribit-a"\ncurrency = "ETH"\namount = 1.0\n',
            "sim.balances[0].currency",
            "ETH is not in [[sim.underlyings]]: it has no price",
        ),
    ],
)
def test_names_must_be_configured(errors, extra: str, key: str, message: str) -> None:
    """Every key naming a venue, an underlying or a currency names a configured one."""
    assert errors(BASE + extra) == {key: message}


def test_cascade_venues_need_role_hedge(errors) -> None:
    """A venue liquidated in the cascade must be one that carries hedges."""
    text = BASE.replace('role = ["options", "hedge"]', 'role = ["options"]')
    text += '[[venues]]\nname = "h"\nexchange = "deribit"\nrole = ["hedge"]\n'
    found = errors(text + '[stress]\ncascade_hedge_venues = ["deribit-a"]\n')
    assert found == {
        "stress.cascade_hedge_venues[0]": (
            "'deribit-a' is not a configured venue with role 'hedge' (have: h)"
        )
    }


def test_underlyings_of_hedges_count_outside_mode_sim(errors, write) -> None:
    """In mode paper an underlying is configured by its [[hedges]] route, not by [sim]."""
    text = 'mode = "paper"\n' + BASE + HEDGE + "[strategy.target_delta_coin]\nBTC = 0.5\n"
    assert load_config(write(text), {}).strategy.target_for("BTC") == 0.5
    found = errors(text.replace("BTC = 0.5", "ETH = 0.5"))
    assert list(found) == ["strategy.target_delta_coin.ETH"]


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("start = 2026-12-01T08:00:00Z", "start = 2100-01-01T00:00:00Z", "sim.start"),
        ("2026-12-25T08:00:00Z", "2037-12-25T08:00:00Z", "sim.book[0].expiry"),
    ],
)
def test_sim_times_stay_in_range(errors, old: str, new: str, key: str) -> None:
    """sim.start is in [2000, 2100) and a book expiry at most ten years after it."""
    assert list(errors((BASE + OPTION).replace(old, new))) == [key]


@pytest.mark.parametrize("path", ['""', '"."', '"state/.."'])
def test_journal_path_names_a_file(errors, path: str) -> None:
    """An empty path or one naming a directory is refused at daemon.journal_path."""
    found = errors(BASE + f"[daemon]\njournal_path = {path}\n")
    assert list(found) == ["daemon.journal_path"]
