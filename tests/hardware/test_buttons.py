"""The two arcade buttons on gpiozero's MockFactory pins: presses, bounce, technician hold."""

from __future__ import annotations

import threading
import time

import pytest
from gpiozero.pins.mock import MockFactory

from hardware import events
from hardware.buttons import Buttons


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.cond = threading.Condition()

    def __call__(self, name: str) -> None:
        with self.cond:
            self.events.append(name)
            self.cond.notify_all()

    def wait_for(self, name: str, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: name in self.events, timeout)


@pytest.fixture
def factory():
    f = MockFactory()
    yield f
    f.reset()


def press(pin, hold: float = 0.0) -> None:
    pin.drive_low()        # active low: the button shorts the pin to ground
    if hold:
        time.sleep(hold)
    pin.drive_high()


def test_each_button_posts_its_event(factory):
    got = Recorder()
    buttons = Buttons(got, pin_factory=factory, confirm_pin=5, retake_pin=6)
    press(factory.pin(5))
    time.sleep(0.08)
    press(factory.pin(6))
    assert got.events == [events.CONFIRM, events.RETAKE]
    assert buttons.confirm.pin.pull == "up"
    buttons.close()


def test_contact_bounce_counts_as_one_press(factory):
    got = Recorder()
    now = [10.0]
    buttons = Buttons(got, pin_factory=factory, bounce_s=0.05, clock=lambda: now[0])
    pin = factory.pin(5)
    for _ in range(5):                      # a worn switch chatters on the way down and up
        pin.drive_low()
        now[0] += 0.004
        pin.drive_high()
        now[0] += 0.004
    assert got.events == [events.CONFIRM]
    now[0] += 0.04                          # 44 ms after the last release: still bounce
    press(pin)
    assert got.events == [events.CONFIRM]
    now[0] += 0.06                          # a real second press, after the bounce window
    press(pin)
    assert got.events == [events.CONFIRM, events.CONFIRM]
    buttons.close()


def test_holding_both_buttons_asks_for_the_technician(factory):
    got = Recorder()
    buttons = Buttons(got, pin_factory=factory, hold_s=0.3)
    factory.pin(5).drive_low()
    time.sleep(0.05)
    factory.pin(6).drive_low()
    assert got.wait_for(events.BOTH_HELD, timeout=60.0)
    time.sleep(0.4)
    assert got.events.count(events.BOTH_HELD) == 1      # once per hold, not repeated
    factory.pin(5).drive_high()
    factory.pin(6).drive_high()
    buttons.close()


def test_holding_one_button_is_not_technician_mode(factory):
    got = Recorder()
    buttons = Buttons(got, pin_factory=factory, hold_s=0.2)
    factory.pin(5).drive_low()
    time.sleep(0.5)
    factory.pin(5).drive_high()
    assert got.events == [events.CONFIRM]
    buttons.close()


def test_a_failing_consumer_does_not_break_the_buttons(factory):
    calls = []

    def broken(name):
        calls.append(name)
        raise RuntimeError("queue closed")

    buttons = Buttons(broken, pin_factory=factory)
    press(factory.pin(5))
    time.sleep(0.08)
    press(factory.pin(5))
    assert calls == [events.CONFIRM, events.CONFIRM]
    buttons.close()
