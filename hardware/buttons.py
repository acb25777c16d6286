"""The two big arcade buttons: confirm, and retake/back.

Each press posts an event name from :mod:`hardware.events` through the callable the booth gives
(its thread-safe ``post``); holding **both** for ``technician_hold_s`` posts
:data:`~hardware.events.BOTH_HELD` (technician mode). The keyboard and the touchscreen post the
same names from the UI, so the state machine never knows which was used.

Debounce happens twice, on purpose: gpiozero's ``bounce_time`` filters edges in the pin driver
on the Pi (lgpio), and :class:`Buttons` itself ignores a press that follows the previous press or
release of the same button by less than ``bounce_s``. The second guard is what the tests can
see: gpiozero's ``MockFactory`` pins report every edge, like a worn switch would.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from hardware import events

log = logging.getLogger(__name__)


class Buttons:
    """Confirm and retake buttons on gpiozero (active low, internal pull-up: wire pin to GND).

    :param on_event: called with :data:`~hardware.events.CONFIRM`,
        :data:`~hardware.events.RETAKE` or :data:`~hardware.events.BOTH_HELD`, on a gpiozero
        thread: it must only post the event.
    :param pin_factory: gpiozero's; ``None`` for the Pi's default, a ``MockFactory`` in tests.
    """

    def __init__(self, on_event: events.EventSink, *, confirm_pin: int = 5, retake_pin: int = 6,
                 bounce_s: float = 0.05, hold_s: float = 5.0, pin_factory=None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        from gpiozero import Button

        self.on_event = on_event
        self.bounce_s = bounce_s
        self.clock = clock
        self._lock = threading.Lock()
        self._last_edge: dict[str, float] = {}
        self._both_posted = False
        self.confirm = Button(confirm_pin, pull_up=True, bounce_time=bounce_s or None,
                              hold_time=hold_s, pin_factory=pin_factory)
        try:
            self.retake = Button(retake_pin, pull_up=True, bounce_time=bounce_s or None,
                                 hold_time=hold_s, pin_factory=pin_factory)
        except Exception:
            self.confirm.close()
            raise
        for button, name in ((self.confirm, events.CONFIRM), (self.retake, events.RETAKE)):
            button.when_pressed = lambda _b=None, name=name: self._pressed(name)
            button.when_released = lambda _b=None, name=name: self._released(name)
            button.when_held = lambda _b=None: self._held()

    def _pressed(self, name: str) -> None:
        now = self.clock()
        with self._lock:
            last = self._last_edge.get(name)
            self._last_edge[name] = now
            if last is not None and now - last < self.bounce_s:
                log.debug("button %s: bounce ignored (%.0f ms)", name, (now - last) * 1000)
                return
        self._post(name)

    def _released(self, name: str) -> None:
        with self._lock:
            self._last_edge[name] = self.clock()
            self._both_posted = False

    def _held(self) -> None:
        # gpiozero calls this for the button held longest first; both must be held by now
        with self._lock:
            if not (self.confirm.is_held and self.retake.is_held) or self._both_posted:
                return
            self._both_posted = True
        self._post(events.BOTH_HELD)

    def _post(self, name: str) -> None:
        log.info("button event: %s", name)
        try:
            self.on_event(name)
        except Exception:  # a broken consumer must not kill gpiozero's callback thread
            log.exception("posting button event %s failed", name)

    def close(self) -> None:
        self.confirm.close()
        self.retake.close()


def mock_pin_factory():
    """A gpiozero ``MockFactory`` whose pins can also do PWM (the lights share it)."""
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    return MockFactory(pin_class=MockPWMPin)
