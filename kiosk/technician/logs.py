"""Logs to the USB stick: what a technician hands to whoever maintains the booth.

Writes a folder ``kiosk-logs/<booth>-<time>/`` on the stick with the service's journal of the
last days, the session log, the calibration and the config warnings. Nothing personal: the
journal of the booth never contains names or ID numbers (the app logs masked IDs only), and the
registrar's key is not copied.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from kiosk.message import Message
from kiosk.technician import calibration, stats

log = logging.getLogger(__name__)

JOURNAL_CMD = ("journalctl", "--unit", "kiosk.service", "--unit", "kiosk-pwm.service",
               "--since", "-7d", "--no-pager", "--output", "short-iso")

NO_STICK = Message("没有可写的U盘", "No writable USB stick")
WRITE_FAILED = Message("写入U盘失败：U盘已满或被拔出？", "Could not write to the USB stick: full or pulled out?")


@dataclass(frozen=True)
class LogExport:
    folder: Path | None
    files: tuple[str, ...] = ()
    problem: Message | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _journal(cmd: Sequence[str]) -> str:
    try:
        out = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60)
        return out.stdout if out.returncode == 0 else f"journalctl failed: {out.stderr.strip()}\n"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"journalctl not available: {exc}\n"


def export_logs(usb_root: str | os.PathLike | None, *, state_dir: str | os.PathLike, booth_id: str,
                warnings: Sequence[str] = (), journal_cmd: Sequence[str] = JOURNAL_CMD) -> LogExport:
    """Copy the logs to ``usb_root`` (the stick's mount point). Never raises for a stick problem."""
    if usb_root is None or not os.access(usb_root, os.W_OK):
        return LogExport(None, problem=NO_STICK)
    folder = Path(usb_root) / "kiosk-logs" / f"{booth_id}-{time.strftime('%Y%m%d-%H%M%S')}"
    written = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "journal.txt").write_text(_journal(journal_cmd), encoding="utf-8")
        written.append("journal.txt")
        (folder / "warnings.txt").write_text("".join(w + "\n" for w in warnings), encoding="utf-8")
        written.append("warnings.txt")
        for name in (stats.FILENAME, calibration.FILENAME):
            src = Path(state_dir) / name
            if src.exists():
                shutil.copyfile(src, folder / name)
                written.append(name)
        for name in written:       # on the stick for real before "done" is shown
            with open(folder / name, "rb+") as f:
                os.fsync(f.fileno())
    except OSError as exc:
        log.error("log export to %s failed: %s", folder, exc)
        return LogExport(folder, tuple(written), WRITE_FAILED)
    log.info("logs exported to %s", folder)
    return LogExport(folder, tuple(written))
