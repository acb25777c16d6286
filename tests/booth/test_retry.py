"""The one retry policy of the booth's workers: growing waits, and a log that says it once."""

from __future__ import annotations

import logging
import threading

from kiosk.booth.retry import Backoff, Retry

log = logging.getLogger("test.retry")


def test_backoff_grows_to_its_ceiling():
    b = Backoff(0.5, 3.0)
    assert [b.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert Backoff(3.0, 3.0).delay(7) == 3.0          # a steady retry is a backoff too


def test_a_missing_camera_is_logged_once_then_on_change_then_as_a_reminder(caplog):
    now = [0.0]
    r = Retry("camera start", Backoff(0.5, 3.0), log=log, remind_s=300, clock=lambda: now[0])
    caplog.set_level(logging.DEBUG, logger="test.retry")
    for _ in range(100):                               # five minutes of tries, 3 s apart
        r.failed(OSError("no camera on the CSI port"))
        now[0] += 2.9
    loud = [rec for rec in caplog.records if rec.levelno >= logging.WARNING]
    assert len(loud) == 1 and "no camera on the CSI port" in loud[0].getMessage()
    now[0] += 10                                       # past remind_s: one reminder with figures
    r.failed(OSError("no camera on the CSI port"))
    loud = [rec for rec in caplog.records if rec.levelno >= logging.WARNING]
    assert len(loud) == 2 and "101 tries" in loud[1].getMessage()
    r.failed(OSError("camera busy"))                   # a new reason is said at once
    assert "camera busy" in caplog.records[-1].getMessage()
    assert caplog.records[-1].levelno == logging.WARNING
    r.succeeded()
    assert caplog.records[-1].levelno == logging.INFO and "102 failed tries" in caplog.records[-1].getMessage()
    assert r.failures == 0 and r.backoff.delay(r.failures + 1) == 0.5   # the next outage starts over


def test_run_retries_until_it_works_and_reports_each_failure():
    answers = iter([OSError("a"), OSError("b"), "started"])
    failures = []

    def attempt():
        a = next(answers)
        if isinstance(a, Exception):
            raise a
        return a

    r = Retry("thing", Backoff(0.0, 0.0), log=log)
    ok, result = r.run(attempt, threading.Event(), on_failure=failures.append)
    assert ok and result == "started" and r.tries == 3
    assert [str(e) for e in failures] == ["a", "b"]


def test_run_stops_when_halted():
    halt = threading.Event()
    calls = []

    def attempt():
        calls.append(1)
        halt.set()                       # the booth stops while the camera is still missing
        raise OSError("missing")

    ok, result = Retry("thing", Backoff(0.0, 0.0), log=log).run(attempt, halt)
    assert not ok and result is None and len(calls) == 1
