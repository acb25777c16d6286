"""Reboot and shut down from technician mode, through systemd (``systemctl``).

The booth runs as the unprivileged user ``kiosk``; the polkit rule ``systemd/50-kiosk.rules``
allows exactly these two actions. ``run`` is the command runner (tests pass their own).
"""

from __future__ import annotations

import logging
import subprocess
from typing import Callable, Sequence

from kiosk.message import Message

log = logging.getLogger(__name__)

Runner = Callable[[Sequence[str]], subprocess.CompletedProcess]

FAILED = Message("操作失败，请查看日志", "That did not work: see the log")


def _run(cmd: Sequence[str]) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=30)


def _power(verb: str, run: Runner) -> Message | None:
    cmd = ["systemctl", "--no-ask-password", verb]
    log.warning("technician: %s", " ".join(cmd))
    try:
        result = run(cmd)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.error("%s failed: %s", verb, exc)
        return FAILED
    if result.returncode != 0:
        log.error("%s failed: %s", verb, (result.stderr or "").strip())
        return FAILED
    return None


def reboot(run: Runner = _run) -> Message | None:
    """Restart the Pi. Returns None when systemd accepted it, else a message to show."""
    return _power("reboot", run)


def shutdown(run: Runner = _run) -> Message | None:
    """Power the Pi off (unplug only after the green LED stops flashing)."""
    return _power("poweroff", run)
