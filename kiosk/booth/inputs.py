"""From what the student does to the state machine's typed events: the loop's input edge.

Three sources speak three vocabularies; here they become `kiosk.booth.session` events:

* device names posted by the hardware layer (``hardware.events``: the big buttons, the USB
  watcher), see :func:`device_event`;
* touch targets of the screens (``Button.event`` names of kiosk.booth.ui), :func:`button_event`;
* keys: Enter/Space = confirm, Backspace/Esc = retake or back (Backspace erases a digit while
  typing), digits = keypad, L = language, E = remove the USB stick safely, F12 = technician
  mode, Ctrl+Q = quit; :func:`key_event`.

Touch: only MOUSEBUTTONUP counts (SDL synthesises it from a finger, so no touch counts twice).
Technician mode also opens on a touch held for `TECHNICIAN_HOLD_S` in the top-left corner
(:func:`is_technician_corner`) or both big buttons held (hardware.events.BOTH_HELD).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from hardware import events as dev
from kiosk.booth import session as s

TECHNICIAN_HOLD_S = 3.0          # hidden gesture: hold the top-left corner this long


@dataclass(frozen=True)
class UsbInserted:
    """A stick appeared: export what waits, then refresh the attract screen's stick line."""


@dataclass(frozen=True)
class UsbRemoved:
    """The stick went away: refresh the attract screen's stick line."""


@dataclass(frozen=True)
class Quit:
    """Ctrl+Q or the window closed: the loop stops."""


#: What an input becomes: an event for the state machine, or one for the loop itself.
Input = Union[s.Event, UsbInserted, UsbRemoved, Quit]

_DEVICE: dict[str, Input] = {
    dev.CONFIRM: s.CONFIRM,
    dev.RETAKE: s.BACK,
    dev.BOTH_HELD: s.TECHNICIAN_REQUEST,
    dev.USB_INSERTED: UsbInserted(),
    dev.USB_REMOVED: UsbRemoved(),
}

_BUTTONS: dict[str, s.Press] = {
    "confirm": s.CONFIRM, "retake": s.BACK, "language": s.LANGUAGE, "erase": s.ERASE,
    "eject": s.EJECT,
}


def device_event(name: str) -> Input | None:
    """A hardware.events name as the loop's event (None: a name nobody knows, ignored)."""
    return _DEVICE.get(name)


def button_event(name: str) -> s.Event | None:
    """A screen's touch target (``Button.event``) as an event; ``digit:N`` is a keypad digit."""
    if name.startswith("digit:"):
        return s.Digit(name.split(":", 1)[1])
    return _BUTTONS.get(name)


def key_event(key: int, mod: int, unicode: str, *, typing: bool) -> Input | None:
    """A key press as an event. ``typing``: the keypad holds digits (Backspace erases one)."""
    import pygame

    if key == pygame.K_q and mod & pygame.KMOD_CTRL:
        return Quit()
    if key in (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE):
        return s.CONFIRM
    if key == pygame.K_BACKSPACE:
        return s.ERASE if typing else s.BACK
    if key == pygame.K_ESCAPE:
        return s.BACK
    if key == pygame.K_l:
        return s.LANGUAGE
    if key == pygame.K_e:
        return s.EJECT
    if key == pygame.K_F12:
        return s.TECHNICIAN_REQUEST
    if unicode and unicode.isdigit() and unicode.isascii():
        return s.Digit(unicode)
    return None


def is_technician_corner(pos: tuple[int, int], size: tuple[int, int], held_s: float) -> bool:
    """A touch held long enough in the top-left eighth of the screen (the hidden gesture)."""
    w, h = size
    return pos[0] < w // 8 and pos[1] < h // 8 and held_s >= TECHNICIAN_HOLD_S
