"""One recipient's bad record or refused address never costs the others their mail."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from conftest import RULES, add_team, at

from aftersales import Notification, ServiceDesk, ValidationError


class Picky:
    """An SMTP server that refuses one mailbox for good (550) and takes the rest."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], Message]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:  # fmt: skip
        if address.startswith("gone@"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(
            (list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=default_policy))
        )
        return "250 OK"


@pytest.fixture
def picky() -> Iterator[tuple[Picky, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = Picky()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def test_a_refused_mailbox_and_a_broken_name_do_not_block_the_others(
    tmp_path: Path, picky: tuple[Picky, int]
) -> None:
    box, port = picky
    path = tmp_path / "desk.db"
    email = {"host": "127.0.0.1", "port": port, "security": "none", "sender": "desk@example.com"}
    desk = ServiceDesk(RULES / "default.policy", f"sqlite:///{path}", notify={"email": email})
    add_team(desk)
    desk.staff.update("e7", by="m1", email="chen@example.com", at=at(0))
    desk.staff.update("e8", by="m1", email="gone@example.com", at=at(0))
    desk.staff.update("cs1", by="m1", email="lin@example.com", at=at(0))
    with pytest.raises(ValidationError, match="line break"):
        desk.staff.add(id="x1", name="Evil\r\nBcc: all@example.com", roles=["engineer"])
    # a record stored before names were checked
    with sqlite3.connect(path) as conn:
        data = json.loads(
            conn.execute(
                "SELECT data FROM snapshots WHERE kind = 'staff' AND id = 'cs1'"
            ).fetchone()[0]
        )
        data["name"] = "Lin\r\nBcc: all@example.com"
        conn.execute("UPDATE snapshots SET data = ? WHERE kind = 'staff' AND id = 'cs1'",
                     (json.dumps(data),))  # fmt: skip
    desk = ServiceDesk(RULES / "default.policy", f"sqlite:///{path}", notify={"email": email})
    note = Notification("test", None, ("e7", "e8", "cs1"), "three recipients", {}, at(5))
    [item] = [i for i in desk.notifications.send([note], at(5)) if i.plugin == "email"]
    assert item.status == "delivered", item.last_error
    [(rcpt, mail)] = box.mails
    assert rcpt == ["chen@example.com", "lin@example.com"]
    assert "Bcc" not in mail  # the line break did not make a header of its own
    to = [a.addr_spec for a in mail["To"].addresses]
    assert to == ["chen@example.com", "gone@example.com", "lin@example.com"]
