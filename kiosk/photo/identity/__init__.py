"""Identity in the JPEG comment segment: pluggable schemes under the registrar's key.

The standard asks for the student's identity, encrypted, in the COM segment of every file, with
an algorithm "to be announced separately". Until then the booth uses :mod:`aesgcm
<kiosk.photo.identity.aesgcm>` (AES-256-GCM); the announced algorithm will be one more scheme::

    >>> from kiosk.photo.identity import load_scheme, generate_key, load_key
    >>> scheme = load_scheme("aesgcm-v1")
    >>> comment = scheme.seal(student, key, image_digest=digest)   # bytes for the COM segment
    >>> scheme.open(comment, key).id_number                        # raises IdentityError if
    '11010519491231002X'                                           # the key or bytes are wrong

Adding the official algorithm later
-----------------------------------
1. Write one module, e.g. ``kiosk/photo/identity/official.py``, with a subclass of
   :class:`~kiosk.photo.identity.base.IdentityScheme`: set ``scheme_id``, implement ``seal`` (student
   -> comment bytes), ``open`` (comment bytes -> :class:`SealedIdentity`, raising
   :class:`IdentityError` on a wrong key or altered bytes) and ``recognises``.
2. Register it under the entry point group ``kiosk.identity_schemes`` in ``pyproject.toml``::

       [project.entry-points."kiosk.identity_schemes"]
       official-v1 = "kiosk.photo.identity.official:OfficialScheme"

   (and, so a plain source checkout finds it too, add the same line to ``BUILTIN_SCHEMES``).
3. Set ``identity_scheme = "official-v1"`` in the ``[booth]`` table of the config file.

A third-party package can also provide a scheme by declaring the same entry point group in its
own metadata; nothing in the booth changes. :func:`scheme_for_comment` picks the right scheme
for an existing file by asking each one whether it ``recognises`` the comment, so files made
before a switch stay verifiable.
"""

from __future__ import annotations

import functools
import importlib
import logging
import sys
from importlib.metadata import entry_points

from kiosk.message import Message
from kiosk.photo.identity.base import IdentityError, IdentityScheme, SealedIdentity
from kiosk.photo.identity.keys import KEY_BYTES, KeyFileError, generate_key, load_key

log = logging.getLogger(__name__)

GROUP = "kiosk.identity_schemes"
DEFAULT_SCHEME = "aesgcm-v1"
#: Used when the package metadata is not installed (running from a source checkout); the entry
#: points, when present, take precedence.
BUILTIN_SCHEMES: dict[str, str] = {
    "aesgcm-v1": "kiosk.photo.identity.aesgcm:AesGcmScheme",
}

__all__ = [
    "IdentityError", "IdentityScheme", "SealedIdentity", "KeyFileError", "KEY_BYTES",
    "generate_key", "load_key", "load_scheme", "available_schemes", "scheme_for_comment",
    "DEFAULT_SCHEME", "GROUP",
]


def available_schemes() -> dict[str, str]:
    """Scheme name -> ``module:Class``, from the entry points and the built-in fallback."""
    found = dict(BUILTIN_SCHEMES)
    found.update(_entry_point_schemes(tuple(sys.path)))
    return found


@functools.lru_cache(maxsize=8)
def _entry_point_schemes(search_path: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The entry points of :data:`GROUP` on this ``sys.path`` (read once per path: scanning
    every installed distribution's metadata costs ~10 ms, and a verification asks 5 times)."""
    try:
        return tuple((ep.name, ep.value) for ep in entry_points(group=GROUP))
    except Exception as exc:   # broken metadata must not stop a booth: fall back to built-ins
        log.warning("cannot read entry points %s: %s", GROUP, exc)
        return ()


def load_scheme(name: str = DEFAULT_SCHEME) -> IdentityScheme:
    """An instance of the scheme registered as ``name``; raises :class:`IdentityError` if unknown."""
    target = available_schemes().get(name)
    if target is None:
        raise IdentityError(Message(f"未知的身份加密方案：{name}",
                                    f"unknown identity scheme: {name} (known: "
                                    + ", ".join(sorted(available_schemes())) + ")"))
    module_name, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise IdentityError(Message(f"身份加密方案{name}无法加载",
                                    f"identity scheme {name} cannot be loaded: {exc}")) from None
    if not (isinstance(cls, type) and issubclass(cls, IdentityScheme)):
        raise IdentityError(Message(f"身份加密方案{name}无效",
                                    f"{target} is not an IdentityScheme"))
    return cls()


def scheme_for_comment(comment: bytes, default: str = DEFAULT_SCHEME) -> IdentityScheme:
    """The scheme that recognises ``comment``, else the ``default`` scheme."""
    for name in available_schemes():
        try:
            scheme = load_scheme(name)
        except IdentityError as exc:
            log.warning("%s", exc)
            continue
        if scheme.recognises(comment):
            return scheme
    return load_scheme(default)
