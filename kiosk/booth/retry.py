"""Retrying what fails on a background thread (camera start, preview frames, model load).

One policy for all of them:

* the wait between tries grows from ``first_s`` by ``factor`` up to ``most_s`` (`Backoff`); the
  booth keeps ``most_s`` shorter than the failsafe screen's own timeout, because every failed try
  also keeps that screen up (``on_failure``);
* the log says it once: the first failure with its reason at ERROR, later ones only when the
  reason changes, otherwise a reminder every ``remind_s`` (how many tries, for how long) and the
  rest at DEBUG; the recovery at INFO. A camera left unplugged overnight writes a line every
  few minutes, not every 3 seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

T = TypeVar("T")

#: A reminder that something is still failing, this often (seconds).
REMIND_S = 300.0


@dataclass(frozen=True)
class Backoff:
    """Waits between tries: ``first_s``, then ``factor`` times longer each time, at most ``most_s``."""
    first_s: float
    most_s: float
    factor: float = 2.0

    def delay(self, failures: int) -> float:
        """The wait after the ``failures``-th failure in a row (1 = the first)."""
        return min(self.most_s, self.first_s * self.factor ** max(0, failures - 1))


class Retry:
    """Bookkeeping and logging for one thing that is retried until it works.

    Use :meth:`run` for "until it works once" (camera start, model load); a loop that works
    continuously (the preview feed) calls :meth:`failed` and :meth:`succeeded` itself.
    """

    def __init__(self, what: str, backoff: Backoff, *, log: logging.Logger,
                 remind_s: float = REMIND_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what
        self.backoff = backoff
        self.log = log
        self.remind_s = remind_s
        self.clock = clock
        self.tries = 0               # every attempt, successful or not
        self.failures = 0            # failures in a row (0: working)
        self._since: float | None = None
        self._reason: str | None = None
        self._reminded_at = 0.0

    def failed(self, exc: BaseException, *, logged: bool = False) -> float:
        """Count and (maybe) log a failure; returns how long to wait before the next try.
        ``logged``: the caller has already said it (in its own words)."""
        now = self.clock()
        reason = str(exc) or type(exc).__name__
        self.failures += 1
        if self.failures == 1:
            self._since, self._reminded_at = now, now
            if not logged:
                self.log.error("%s failed: %s; retrying", self.what, reason, exc_info=exc)
        elif reason != self._reason:
            self._reminded_at = now
            self.log.warning("%s still failing, now: %s", self.what, reason)
        elif now - self._reminded_at >= self.remind_s:
            self._reminded_at = now
            self.log.warning("%s still failing after %d tries in %.0f s: %s", self.what,
                             self.failures, now - (self._since or now), reason)
        else:
            self.log.debug("%s failed again (try %d): %s", self.what, self.failures, reason)
        self._reason = reason
        return self.backoff.delay(self.failures)

    def succeeded(self) -> None:
        """It works (again): say so once if it had failed, and start the backoff over."""
        if self.failures:
            self.log.info("%s works again after %d failed tries", self.what, self.failures)
        self.failures, self._reason, self._since = 0, None, None

    def run(self, attempt: Callable[[], T], halt: threading.Event, *,
            on_failure: Callable[[BaseException], None] | None = None,
            wait_first: bool = False) -> tuple[bool, T | None]:
        """Call ``attempt`` until it returns; ``(True, result)``, or ``(False, None)`` once
        ``halt`` is set. ``on_failure(exc)`` runs after each failed try (e.g. post a `Failure`).
        ``wait_first``: the caller already failed once (counts as the first failure)."""
        delay = self.backoff.first_s if wait_first else 0.0
        while not halt.wait(delay):
            self.tries += 1
            try:
                result = attempt()
            except Exception as exc:          # any driver's or library's error: retried
                delay = self.failed(exc)
                if on_failure is not None:
                    on_failure(exc)
                continue
            self.succeeded()
            return True, result
        return False, None
