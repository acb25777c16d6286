"""The technician PIN: compared in constant time, so the time a wrong PIN takes tells nothing."""

from __future__ import annotations

import hmac


def pin_matches(entered: str, configured: str) -> bool:
    """True when ``entered`` is the configured PIN.

    An empty configured PIN never matches: a booth whose config lost its PIN keeps technician
    mode closed rather than open to anyone.
    """
    if not configured:
        return False
    return hmac.compare_digest(entered.strip().encode("utf-8"), configured.strip().encode("utf-8"))
