"""What every identity scheme provides: seal a student into comment bytes, open them again."""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass

from kiosk.message import Message
from kiosk.photo.student import Student


class IdentityError(ValueError):
    """A comment could not be opened: wrong key, tampered bytes, unknown scheme, bad format.

    ``message`` is bilingual, for the registrar's report and the booth's log.
    """

    def __init__(self, message: Message) -> None:
        super().__init__(message.en)
        self.message = message


@dataclass(frozen=True)
class SealedIdentity:
    """What a sealed comment says, once opened and authenticated.

    Student-like: ``student_id``, ``id_number`` and ``name`` read through to :attr:`student`.
    """

    scheme: str
    student: Student
    school_code: str
    captured_at: dt.datetime | None
    image_digest: bytes | None      # SHA-256 of the file without its comment (kiosk.photo.jpeg)

    @property
    def student_id(self) -> str:
        return self.student.student_id

    @property
    def id_number(self) -> str:
        return self.student.id_number

    @property
    def name(self) -> str:
        return self.student.name

    def matches(self, expected: Student) -> bool:
        """Same student number and ID-card number (the two numbers the standard binds)."""
        return (self.student.student_id == expected.student_id
                and self.student.id_number == expected.id_number)


class IdentityScheme(abc.ABC):
    """An algorithm that turns a student into the bytes of the JPEG comment segment and back.

    Subclasses set :attr:`scheme_id` (the entry point name) and implement :meth:`seal` and
    :meth:`open`. ``open`` must authenticate: a wrong key or any changed byte raises
    :class:`IdentityError`, it never returns a wrong student.
    """

    scheme_id: str = ""

    @abc.abstractmethod
    def seal(self, student: Student, key: bytes, *, image_digest: bytes | None = None,
             captured_at: dt.datetime | None = None) -> bytes:
        """The comment bytes for ``student`` (printable ASCII, at most 65533 bytes)."""

    @abc.abstractmethod
    def open(self, comment: bytes, key: bytes) -> SealedIdentity:
        """Decrypt and authenticate ``comment``; raises :class:`IdentityError`."""

    def recognises(self, comment: bytes) -> bool:
        """Whether ``comment`` looks like this scheme's output (without needing the key)."""
        return False
