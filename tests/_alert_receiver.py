"""A real HTTP receiver on 127.0.0.1 for the alert tests (imported as ``from _alert_receiver import …``).

It records every request (path with query, headers, body) and answers what ``respond`` says;
by default ``200 {"errcode": 0}`` like the chat robots.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


OK: Answer = (200, {"Content-Type": "application/json"}, b'{"errcode": 0, "errmsg": "ok"}')


@contextmanager
def receiver(respond: Callable[[Received], Answer] | None = None) -> Iterator[Receiver]:
    """Run a receiver on a free loopback port for the ``with`` block."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            item = Received(
                self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)
            )
            with state.lock:
                state.requests.append(item)
            status, headers, body = respond(item) if respond is not None else OK
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
