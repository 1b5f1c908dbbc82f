"""New record ids: time-ordered UUIDs (version 7, RFC 9562) from a per-process generator.

Case ids are the primary key of the snapshot and index tables: ids that grow with time keep
new rows together at the end of the key's B-tree (random version-4 ids scatter every insert
over the whole index, which slowed bulk writes and cold reads past a million cases). The
random bits come from a generator seeded once per process from the operating system (and
again in a forked child), not one ``getrandom`` call per id: ids must be unique, not secret.
"""

from __future__ import annotations

import os
import random
import threading
import time

_random = random.Random(os.urandom(32))
_lock = threading.Lock()


def _reseed() -> None:
    _random.seed(os.urandom(32))


if hasattr(os, "register_at_fork"):  # POSIX: a forked child must not repeat the parent's ids
    os.register_at_fork(after_in_child=_reseed)


def uuid7() -> str:
    """A new UUID, version 7: 48 bits of Unix milliseconds, then 74 random bits; text ids
    sort by time to the millisecond."""
    with _lock:  # random.Random is not documented as thread-safe for getrandbits
        bits = _random.getrandbits(74)
    value = (
        (time.time_ns() // 1_000_000) << 80
        | 0x7 << 76
        | (bits >> 62) << 64
        | 0b10 << 62
        | (bits & ((1 << 62) - 1))
    )
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def token() -> str:
    """A new unique id as 32 hex digits (outbox items): :func:`uuid7` without its dashes."""
    return uuid7().replace("-", "")


__all__ = ["token", "uuid7"]
