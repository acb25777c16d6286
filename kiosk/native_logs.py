"""Keep mediapipe's C++ log lines off a user's terminal (and out of the booth's journal).

mediapipe 0.10 logs from C++ through absl and TensorFlow Lite straight to file descriptor 2:
"INFO: Created TensorFlow Lite XNNPACK delegate", "W0000 00:00:… inference_feedback_manager…",
a dozen lines per command, some of them only when a model first sees a face. absl ignores the
GLOG_* variables, and the lines come from the models' own threads at any time, so no
environment variable or short redirection hides them all.

:func:`hide_native_logs` puts a filter between fd 2 and the real stderr: a pipe whose reader
thread forwards every line except those of the C++ loggers. Python's own messages (logging,
tracebacks) still reach the terminal, in order. The command line installs it unless ``-v`` is
given, which shows everything as before. At exit the real stderr is put back after the pipe is
drained, so the last lines of a failing program are never lost.
"""

from __future__ import annotations

import atexit
import os
import re
import select
import sys
import threading

#: A line of absl/glog ("W0000 00:00:1796199394.026568   18312 file.cc:114] …"), of TensorFlow
#: Lite ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU."), absl's own preamble, or
#: libasound ("ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default").
NATIVE_LINE = re.compile(
    rb"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\] "
    rb"|INFO: Created TensorFlow Lite"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|ALSA lib )")       # libasound's own complaints where there is no sound card (the booth logs it once)

_state: dict = {}


def hide_native_logs() -> bool:
    """Filter the C++ log lines out of fd 2 from now on (idempotent). False if not possible."""
    if _state:
        return True
    try:
        sys.stderr.flush()
        real = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
    except OSError:
        return False
    _state.update(real=real, read=read_end, dropped=0)
    thread = threading.Thread(target=_pump, args=(read_end, real), name="native-log-filter",
                              daemon=True)
    _state["thread"] = thread
    thread.start()
    atexit.register(restore)
    return True


def dropped() -> int:
    """How many C++ log lines were filtered out so far."""
    return _state.get("dropped", 0)


def restore() -> None:
    """Put the real stderr back on fd 2 and forward what is still in the pipe."""
    if not _state or "restored" in _state:
        return
    _state["restored"] = True
    try:
        sys.stderr.flush()
    except Exception:        # noqa: BLE001 - a closed stream at exit
        pass
    os.dup2(_state["real"], 2)          # closes our write end: the reader sees the end
    _state["thread"].join(timeout=2.0)


def _pump(read_end: int, real: int) -> None:
    pending = b""
    while True:
        ready, _, _ = select.select([read_end], [], [], 0.05 if pending else None)
        if not ready:                       # a partial line (a prompt): show it as it is
            _write(real, pending)
            pending = b""
            continue
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        out = []
        for line in lines:
            if NATIVE_LINE.match(line):
                _state["dropped"] = _state.get("dropped", 0) + 1
            else:
                out.append(line + b"\n")
        if out:
            _write(real, b"".join(out))
    if pending and not NATIVE_LINE.match(pending):
        _write(real, pending)
    os.close(read_end)


def _write(fd: int, data: bytes) -> None:
    while data:
        try:
            n = os.write(fd, data)
        except OSError:
            return
        data = data[n:]
