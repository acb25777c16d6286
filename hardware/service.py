"""Talking to systemd: readiness, watchdog, status line, stopping.

Under systemd (``Type=notify``, ``WatchdogSec=``) the booth tells the service manager when it is
ready, shows a status line in ``systemctl status``, and pets the watchdog; if it stops petting,
systemd restarts it. This goes through systemd-python (``from systemd import daemon``, apt
``python3-systemd`` on the Pi), which sends datagrams to ``$NOTIFY_SOCKET``. Without
systemd-python, or when not started by systemd (no ``NOTIFY_SOCKET``), every call is a no-op,
so the booth runs the same on a laptop.

:class:`WatchdogGate` decides *when* to pet: only while the UI loop is ticking **and** camera
frames are arriving. A booth whose loop runs but whose camera has silently died is not healthy,
and a restart is the cure.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Callable

log = logging.getLogger(__name__)


def _load_notify() -> Callable[[str], bool] | None:
    try:
        from systemd import daemon  # type: ignore[attr-defined]   # systemd-python: untyped
    except ImportError:
        return None
    notify: Callable[[str], bool] = daemon.notify
    return notify


class ServiceManager:
    """sd_notify for the booth; a no-op when systemd is not watching.

    :param notify: a ``notify(str) -> bool``; default systemd-python's ``daemon.notify``.
    """

    def __init__(self, notify: Callable[[str], bool] | None = None) -> None:
        self._notify = notify if notify is not None else _load_notify()
        self.enabled = self._notify is not None and bool(os.environ.get("NOTIFY_SOCKET"))
        if self._notify is None:
            log.info("systemd-python not installed: readiness and watchdog are off")
        elif not self.enabled:
            log.debug("not started by systemd (no NOTIFY_SOCKET): readiness and watchdog are off")

    @property
    def watchdog_interval(self) -> float | None:
        """``WatchdogSec`` in seconds when systemd watches this process, else ``None``.

        From ``$WATCHDOG_USEC`` (and ``$WATCHDOG_PID``, which must be this process if set).
        """
        usec = os.environ.get("WATCHDOG_USEC")
        pid = os.environ.get("WATCHDOG_PID")
        if not self.enabled or not usec:
            return None
        if pid and pid.isdigit() and int(pid) != os.getpid():
            return None
        try:
            value = int(usec)
        except ValueError:
            return None
        return value / 1e6 if value > 0 else None

    def _send(self, message: str) -> bool:
        if not self.enabled or self._notify is None:
            return False
        try:
            return bool(self._notify(message))
        except OSError as exc:   # the manager went away: keep running, say so once per call
            log.warning("sd_notify(%r) failed: %s", message.split("=")[0], exc)
            return False

    def ready(self) -> bool:
        """The booth is up: systemd considers the service started."""
        return self._send("READY=1")

    def watchdog(self) -> bool:
        """Pet the watchdog (call it through :class:`WatchdogGate`)."""
        return self._send("WATCHDOG=1")

    def status(self, text: str) -> bool:
        """One line for ``systemctl status`` (newlines would end the message: replaced)."""
        return self._send("STATUS=" + " ".join(str(text).split()))

    def stopping(self) -> bool:
        """The booth is shutting down on purpose."""
        return self._send("STOPPING=1")


class WatchdogGate:
    """Pets the watchdog only while the loop ticks **and** frames arrive.

    The UI loop calls :meth:`loop_ticked` every tick and :meth:`maybe_pet` after it; the camera
    reader calls :meth:`frame_arrived` for every frame. A pet is sent when both happened within
    ``max_age`` seconds and the last pet is at least ``pet_every`` seconds old. When the booth
    stops the camera on purpose (a long idle), :meth:`expect_frames` ``(False)`` lets the loop
    alone keep it alive.

    Defaults follow systemd's advice: ``max_age`` = half of ``WatchdogSec``, ``pet_every`` = a
    quarter of it (5 s and 2.5 s when there is no watchdog).
    """

    def __init__(self, service: ServiceManager, *, max_age: float | None = None,
                 pet_every: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        interval = service.watchdog_interval or 10.0
        self.service = service
        self.max_age = max_age if max_age is not None else interval / 2
        self.pet_every = pet_every if pet_every is not None else interval / 4
        self.clock = clock
        self.frames_expected = True
        self._last_tick: float | None = None
        self._last_frame: float | None = None
        self._last_pet: float | None = None
        self.pets = 0

    def loop_ticked(self) -> None:
        self._last_tick = self.clock()

    def frame_arrived(self) -> None:
        self._last_frame = self.clock()

    def expect_frames(self, expected: bool) -> None:
        """Whether frames must arrive for the booth to count as alive."""
        self.frames_expected = expected
        if expected:
            self._last_frame = self.clock()   # give the restarted camera a fresh ``max_age``

    def healthy(self) -> bool:
        now = self.clock()

        def recent(t: float | None) -> bool:
            return t is not None and now - t <= self.max_age

        return recent(self._last_tick) and (not self.frames_expected or recent(self._last_frame))

    def maybe_pet(self) -> bool:
        """Pet if healthy and due; True when a pet was sent (or would be, without systemd)."""
        now = self.clock()
        if self._last_pet is not None and now - self._last_pet < self.pet_every:
            return False
        if not self.healthy():
            return False
        self._last_pet = now
        self.pets += 1
        self.service.watchdog()
        return True
