"""A real Sentry receiver: an HTTP server on 127.0.0.1 that stores the envelopes the real SDK sends."""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sentry_sdk
from pydantic import SecretStr

from app.config import Settings


@dataclass
class Envelope:
    raw: bytes  # decompressed body, exactly as sent
    items: list[tuple[dict[str, Any], bytes]]

    def payloads(self, item_type: str) -> list[dict[str, Any]]:
        return [json.loads(body) for header, body in self.items if header.get("type") == item_type]


@dataclass
class SentryReceiver:
    dsn: str
    envelopes: list[Envelope] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [event for envelope in self.envelopes for event in envelope.payloads("event")]

    def raw(self) -> bytes:
        with self.lock:
            return b"\n".join(envelope.raw for envelope in self.envelopes)


def parse_envelope(body: bytes) -> list[tuple[dict[str, Any], bytes]]:
    """A header line, then per item a header line and a payload (length-prefixed, or one line)."""
    _header, _, rest = body.partition(b"\n")
    items = []
    while rest.strip():
        item_header_line, _, rest = rest.partition(b"\n")
        item_header = json.loads(item_header_line)
        if "length" in item_header:
            length = item_header["length"]
            payload, rest = rest[:length], rest[length + 1 :]
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((item_header, payload))
    return items


def _decompress(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    assert encoding in ("", "identity"), f"receiver cannot decode Content-Encoding {encoding!r}"
    return body


@pytest.fixture
def sentry_receiver() -> Iterator[SentryReceiver]:
    receiver_ref: list[SentryReceiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            raw = _decompress(body, self.headers.get("Content-Encoding", "").lower())
            receiver = receiver_ref[0]
            with receiver.lock:
                receiver.envelopes.append(Envelope(raw=raw, items=parse_envelope(raw)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver_ref.append(SentryReceiver(dsn=f"http://publickey@127.0.0.1:{server.server_port}/1"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver_ref[0]
    finally:
        reset_sentry()
        server.shutdown()
        server.server_close()


def reset_sentry() -> None:
    """sentry_sdk.init is process-global: flush and close the client, then leave none behind."""
    client = sentry_sdk.get_client()
    if client.is_active():
        client.close(timeout=5)
    sentry_sdk.get_global_scope().set_client(None)
    sentry_sdk.get_global_scope().remove_tag("component")


@pytest.fixture
def sentry_settings(settings: Settings, sentry_receiver: SentryReceiver) -> Settings:
    reset_sentry()
    # Trace every request, so transactions are checked for secrets too.
    return settings.model_copy(
        update={"sentry_dsn": SecretStr(sentry_receiver.dsn), "sentry_traces_sample_rate": 1.0}
    )
