"""Record ids (issue 18): time-ordered UUIDs from a generator seeded once per process."""

from __future__ import annotations

import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from aftersales.services.ids import token, uuid7


def test_a_uuid7_is_a_version_7_rfc_uuid_carrying_the_time() -> None:
    before = time.time_ns() // 1_000_000
    made = uuid.UUID(uuid7())
    after = time.time_ns() // 1_000_000
    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after
    assert str(made) == str(uuid.UUID(str(made)))  # the canonical text form


def test_ids_sort_by_the_millisecond_they_were_made() -> None:
    first = uuid7()
    time.sleep(0.002)
    assert uuid7() > first


def test_a_hundred_thousand_ids_from_eight_threads_are_all_different() -> None:
    with ThreadPoolExecutor(8) as pool:
        made = [i for chunk in pool.map(lambda _: [uuid7() for _ in range(12_500)], range(8))
                for i in chunk]  # fmt: skip
    assert len(set(made)) == len(made) == 100_000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        os.write(write, " ".join(token() for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    mine = {token() for _ in range(50)}
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        theirs = set(pipe.read().split())
    assert len(theirs) == 50 and not mine & theirs


def test_a_token_is_32_hex_digits() -> None:
    made = token()
    assert len(made) == 32 and int(made, 16) >> 76 & 0xF == 7
