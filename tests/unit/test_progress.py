"""A run's progress: a rich bar on a terminal, plain lines without control characters otherwise."""

from __future__ import annotations

import io

from bot.ops.progress import RunProgress, clock_text


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    """Wall seconds that move only when told."""

    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def run(stream: io.StringIO, steps: int, *, after_s: float = 0.0) -> Clock:
    """``steps`` updates of a 100-unit run, one wall second apart."""
    clock = Clock()
    with RunProgress(stream, "job", 100, after_s=after_s, clock=clock) as shown:
        for i in range(1, steps + 1):
            clock.now_s = float(i)
            shown.update(i * 100 / steps, f"{i} chunks")
    return clock


class TestPlainLines:
    def test_one_line_per_tenth_with_eta_and_no_control_characters(self) -> None:
        """Forty updates write ten lines with an ETA, the last with the time taken, and no
        carriage return or escape sequence."""
        out = io.StringIO()
        run(out, 40)
        text = out.getvalue()
        lines = text.splitlines()
        assert len(lines) == 10 and "\r" not in text and "\x1b" not in text
        assert lines[0] == "job: 10%, 4 chunks, ETA 0:00:36"
        assert lines[-1] == "job: 100%, 40 chunks, took 0:00:40"

    def test_the_last_state_is_written_at_the_close(self) -> None:
        """An update past the last tenth's line is written when the run closes."""
        out = io.StringIO()
        with RunProgress(out, "job", 100, clock=Clock()) as shown:
            shown.update(12, "a")
            shown.update(15, "b")
        assert out.getvalue().splitlines() == [
            "job: 12%, a, ETA 0:00:00",
            "job: 15%, b, ETA 0:00:00",
        ]

    def test_the_100_percent_line_is_written_once(self) -> None:
        """A second update at the total (the demo's last cycle, then its finish) writes no
        second 100 % line, at once or at the close."""
        out = io.StringIO()
        with RunProgress(out, "job", 100, clock=Clock()) as shown:
            shown.update(100, "done")
            shown.update(100, "done again")
        assert out.getvalue().splitlines() == ["job: 100%, done, took 0:00:00"]

    def test_a_quick_run_stays_quiet(self) -> None:
        """Nothing is written before after_s, not even at the close."""
        out = io.StringIO()
        with RunProgress(out, "job", 100, after_s=5.0, clock=Clock()) as shown:
            shown.update(50, "half")
        assert out.getvalue() == ""

    def test_a_slow_run_starts_showing_after_after_s(self) -> None:
        """Once after_s has passed the lines come as usual."""
        out = io.StringIO()
        run(out, 10, after_s=5.0)
        assert out.getvalue().splitlines()[0].startswith("job: 50%, 5 chunks")

    def test_a_note_is_its_own_line(self) -> None:
        """note writes its text as one line."""
        out = io.StringIO()
        RunProgress(out, "job", 1).note("see http://127.0.0.1:1/")
        assert out.getvalue() == "see http://127.0.0.1:1/\n"


class TestTerminal:
    def test_a_bar_with_the_status_and_eta(self) -> None:
        """On a terminal rich draws the bar with the label, status and ETA, then ends it."""
        out = Tty()
        run(out, 4)
        text = out.getvalue()
        assert "job" in text and "4 chunks" in text and "ETA" in text and "100%" in text
        assert text.index("100%") < text.rindex("\n")  # the finished bar keeps its line

    def test_a_note_goes_above_the_bar(self) -> None:
        """A note while the bar is drawn is printed through rich, not into the bar's line."""
        out = Tty()
        with RunProgress(out, "job", 10, clock=Clock()) as shown:
            shown.update(1, "one")
            shown.note("the dashboard")
        assert "the dashboard\n" in out.getvalue()


def test_clock_text_is_hours_minutes_seconds() -> None:
    """3725.4 s is 1:02:05."""
    assert clock_text(3725.4) == "1:02:05"
