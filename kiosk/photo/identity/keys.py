"""The registrar's key file: 32 random bytes, stored as 64 hex digits, readable by its owner only.

The registrar makes one key (``kiosk keygen registrar.key``), keeps a copy, and installs it on
every booth (config ``booth.key_file``). Booths seal with it, the registrar's tool opens with it.
"""

from __future__ import annotations

import binascii
import logging
import os
import secrets
import stat
from pathlib import Path

from kiosk.message import Message

log = logging.getLogger(__name__)

KEY_BYTES = 32   # AES-256


class KeyFileError(OSError):
    """The key file is missing, unreadable or not a key. ``message`` is bilingual."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.en)
        self.message = message


def generate_key(path: str | os.PathLike[str]) -> None:
    """Write a new random key to ``path`` with mode 0600. Never overwrites an existing file."""
    path = Path(path)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(Message(f"密钥文件已存在，不会覆盖：{path}",
                                   f"key file already exists, not overwritten: {path}")) from None
    except OSError as exc:
        raise KeyFileError(Message(f"无法创建密钥文件：{path}（{exc.strerror}）",
                                   f"cannot create key file {path}: {exc.strerror}")) from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.hex() + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, 0o600)   # in case the umask or the filesystem widened it


def load_key(path: str | os.PathLike[str]) -> bytes:
    """Read a key file: 64 hex digits (white space ignored) or exactly 32 raw bytes.

    Raises :class:`KeyFileError` with a clear message when the file is missing, unreadable or
    holds anything else. Logs a warning when other users may read it.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyFileError(Message(f"找不到密钥文件：{path}", f"key file not found: {path}")) from None
    except OSError as exc:
        raise KeyFileError(Message(f"无法读取密钥文件：{path}（{exc.strerror}）",
                                   f"cannot read key file {path}: {exc.strerror}")) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("key file %s can be read by other users (mode %o): chmod 600 it",
                    path, stat.S_IMODE(mode))
    text = b"".join(raw.split())
    if len(text) == 2 * KEY_BYTES:
        try:
            return binascii.unhexlify(text)
        except binascii.Error:
            pass
    if len(raw) == KEY_BYTES:
        return raw
    raise KeyFileError(Message(f"密钥文件格式不正确：{path}（需要64位十六进制数字）",
                               f"not a key file: {path} (expected 64 hex digits)"))
