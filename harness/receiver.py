"""A local HTTP receiver standing in for an SMS/Zalo gateway, for the outbox's tests and benchmark.

It records every POST (JSON body and headers) and answers 200, or the statuses it was told to
give first (``fail_first``), or after a delay (``delay_s``, a slow gateway)::

    with receiving(fail_first=[503, 503]) as gateway:
        HttpGateway(gateway.url).send(to="0912", text="…", key="k1")
        gateway.received  # [{"body": {...}, "headers": {...}, "status": 503}, ...]
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    """What the receiver was asked, and how it answers."""

    url: str = ""
    delay_s: float = 0.0
    fail_first: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self) -> list[dict[str, Any]]:
        """The bodies of the requests answered 200."""
        with self.lock:
            return [r["body"] for r in self.received if r["status"] == 200]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if receiver.delay_s:
                time.sleep(receiver.delay_s)
            with receiver.lock:
                status = receiver.fail_first.pop(0) if receiver.fail_first else 200
                receiver.received.append(
                    {"body": body, "headers": dict(self.headers), "status": status}
                )
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # a gateway accepts many connections at once, as a real one does


@contextmanager
def receiving(*, delay_s: float = 0.0, fail_first: Sequence[int] = ()) -> Iterator[Receiver]:
    """Run a receiver on a free loopback port for the ``with`` block."""
    receiver = Receiver(delay_s=delay_s, fail_first=list(fail_first))
    server = _Server(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/send"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
