"""The dashboard's pure parts: number and time formats, sessions, the band and its gauge."""

from __future__ import annotations

import math

import pytest

import bot.web
from bot.config.hedging import StrategyConfig
from bot.web._format import iso_utc, number, percent, seconds, signed
from bot.web._sessions import Sessions, TokenTooShortError, csrf_ok
from bot.web._views import Band, band_of, gauge_of

TOKEN = "0123456789abcdef"


def test_the_package_exports_its_public_face() -> None:
    """bot.web exports the setup, the mount, the controls and the token rule, nothing else."""
    assert set(bot.web.__all__) == {
        "MIN_TOKEN_CHARS",
        "ControlRefusedError",
        "Controls",
        "DashboardSetup",
        "PanelHook",
        "TokenTooShortError",
        "mount_dashboard",
    }


class TestFormat:
    def test_times_are_iso_utc_to_the_second(self) -> None:
        """Epoch ms become ISO-8601 UTC; an unset stamp is a dash."""
        assert iso_utc(1_796_112_000_000) == "2026-12-01T08:00:00.000Z"
        assert iso_utc(0) == iso_utc(None) == "–"

    def test_numbers_group_thousands_and_use_a_true_minus(self) -> None:
        """Grouped thousands, fixed decimals, U+2212 minus (never on a zero), +, dash for NaN."""
        assert number(-1234567.891) == "−1,234,567.89"
        assert signed(0.5, 4) == "+0.5000" and signed(0.0) == "0.00"
        assert number(math.nan) == number(None) == "–"
        assert number(-0.004) == "0.00" and signed(-0.4, 0) == signed(0.4, 0) == "0"

    def test_percentages_and_durations(self) -> None:
        """Fractions print as percent (inf: beyond range); seconds as s, min or h."""
        assert percent(0.153) == "15.3 %" and percent(math.inf) == "beyond range"
        assert seconds(4.24) == "4.2 s" and seconds(185) == "3 min 5 s"
        assert seconds(7_800) == "2 h 10 min"


class TestSessions:
    def test_a_short_token_is_refused(self) -> None:
        """A token under 16 characters cannot be configured."""
        with pytest.raises(TokenTooShortError, match="has 5 characters; use at least 16"):
            Sessions("short", 60.0)

    def test_login_needs_the_token_and_replaces_the_session(self) -> None:
        """A wrong token gives None; the right one a new authenticated session, the old gone."""
        sessions = Sessions(TOKEN, 60.0)
        anonymous = sessions.new()
        assert sessions.login(anonymous, "wrong-token-wrong") is None
        fresh = sessions.login(anonymous, TOKEN)
        assert fresh is not None and fresh.authenticated
        assert fresh.session_id != anonymous.session_id
        assert sessions.get(anonymous.session_id) is None

    def test_a_session_expires_on_the_server(self) -> None:
        """After its lifetime a session is unknown, whatever cookie the browser still sends."""
        now = [100.0]
        sessions = Sessions(TOKEN, 60.0, now_s=lambda: now[0])
        session = sessions.new()
        now[0] += 59.0
        assert sessions.get(session.session_id) is session
        now[0] += 2.0
        assert sessions.get(session.session_id) is None

    def test_read_only_without_a_token(self) -> None:
        """No token: read-only, and no token logs in."""
        sessions = Sessions(None, 60.0)
        assert sessions.read_only and sessions.login(sessions.new(), "") is None

    def test_csrf_must_match_the_session(self) -> None:
        """Only the session's own CSRF token passes; missing or another's fails."""
        sessions = Sessions(TOKEN, 60.0)
        one, two = sessions.new(), sessions.new()
        assert csrf_ok(one, one.csrf)
        assert not csrf_ok(one, two.csrf) and not csrf_ok(one, None) and not csrf_ok(None, "x")


class TestBand:
    def test_a_usd_band_is_converted_to_coin_at_the_index(self) -> None:
        """widths 3,000 up / 1,500 down USD at 60,000 are [-0.025, +0.05] coin around 0."""
        strategy = StrategyConfig.model_validate(
            {"name": "band", "params": {"width_up": 3000, "width_down": 1500, "unit": "usd"}}
        )
        band = band_of(strategy, 0.0, 60_000.0)
        assert band is not None
        assert (band.low_coin, band.high_coin) == pytest.approx((-0.025, 0.05))
        assert band.where(0.06) == "above band" and band.where(0.0) == "inside band"

    def test_strategies_whose_band_moves_have_none_to_draw(self) -> None:
        """Whalley-Wilmott's band depends on the book each cycle: no fixed band is shown."""
        strategy = StrategyConfig.model_validate(
            {"name": "whalley_wilmott", "params": {"risk_aversion": 1.0}}
        )
        assert band_of(strategy, 0.0, 60_000.0) is None

    def test_the_gauge_centres_the_target_and_clips_the_delta(self) -> None:
        """Target at 50; the band's edges and the delta placed on 0..100 with headroom."""
        gauge = gauge_of(Band(-1.0, 1.0), 0.0, 0.5)
        assert (gauge.low_x, gauge.high_x, gauge.target_x, gauge.delta_x) == (
            10.0,
            90.0,
            50.0,
            70.0,
        )
        assert gauge_of(Band(-1.0, 1.0), 0.0, -3.0).delta_x == 10.0
