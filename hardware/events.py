"""Names of the events devices post into the booth's loop.

Buttons, the touchscreen and the keyboard all speak this vocabulary, so the state machine never
needs to know which one the student used. Device callbacks run on background threads: they only
*post* one of these names (a plain ``str``) through the callable they were given; the loop
handles it on the main thread.
"""

from __future__ import annotations

from typing import Callable

CONFIRM = "confirm"            # the big green button, Enter, or the on-screen "OK"
RETAKE = "retake"              # the other big button: retake / back, Backspace or Escape
BOTH_HELD = "both_held"        # both buttons held for DeviceSettings.technician_hold_s
USB_INSERTED = "usb_inserted"  # a stick appeared under the mount root
USB_REMOVED = "usb_removed"    # the stick went away (pulled, or ejected)

ALL_EVENTS = (CONFIRM, RETAKE, BOTH_HELD, USB_INSERTED, USB_REMOVED)

#: What a device is given to report an event: usually the loop's thread-safe ``post``.
EventSink = Callable[[str], None]
