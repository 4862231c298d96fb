"""A real SMTP relay for tests (aiosmtpd on a free local port) that keeps what it accepts."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Sink:
    """The relay's mailbox: every accepted message, raw, in arrival order."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self._lock:
            self.messages.append(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"

    def parsed(self) -> list[EmailMessage]:
        with self._lock:
            raw = list(self.messages)
        return [message_from_bytes(m, policy=policy.default) for m in raw]  # type: ignore[misc]

    def subjects(self) -> Counter[str]:
        return Counter(str(m["Subject"]) for m in self.parsed())

    def deliveries(self) -> Counter[tuple[str, str, str]]:
        """(To, Subject, body) of every message received: a message sent twice counts 2."""
        return Counter((str(m["To"]), str(m["Subject"]), str(m.get_content())) for m in self.parsed())

    def message_ids(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.parsed())


def free_port() -> int:
    """A local TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_sink() -> Iterator[tuple[Sink, int]]:
    """A relay on 127.0.0.1 for the duration: (its mailbox, its port)."""
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


# Tests queue numbered messages as `note.listing_expiry` notes named "message <n>"; each one's
# subject, to a zh reader, is this followed by the name.
SUBJECT = "目录条目即将到期："
