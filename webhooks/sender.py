"""One POST to a checked target (webhooks.ssrf): connected to the address that was checked
(TLS still verifies the certificate against the host's name), no redirects followed, at most
WEBHOOK_TIMEOUT seconds in all, at most MAX_RESPONSE_BYTES of the answer read."""

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from webhooks.ssrf import Target

MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _Pinned:
    """http.client's connection to `host`, opened to one checked address instead."""

    def __init__(self, address: str, **kwargs):
        self._address = address
        super().__init__(**kwargs)

    def _open(self) -> socket.socket:
        return socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTP(_Pinned, http.client.HTTPConnection):
    def connect(self):
        self.sock = self._open()


class _PinnedHTTPS(_Pinned, http.client.HTTPSConnection):
    def connect(self):
        self.sock = self._context.wrap_socket(self._open(), server_hostname=self.host)


def post(target: Target, *, body: bytes, headers: dict, timeout: float) -> Answer:
    """POST `body` to the target; the answer's status, or what went wrong. Never raises for
    the network's or the receiver's faults."""
    deadline = time.monotonic() + timeout
    errors = []
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        if target.scheme == "https":
            connection = _PinnedHTTPS(
                address,
                host=target.host,
                port=target.port,
                timeout=remaining,
                context=ssl.create_default_context(),
            )
        else:
            connection = _PinnedHTTP(address, host=target.host, port=target.port, timeout=remaining)
        try:
            try:
                connection.connect()
            except OSError as exc:  # refused, unreachable: the next address, if any
                errors.append(f"{address}: {exc}")
                continue
            connection.request(
                "POST",
                target.path,
                body=body,
                headers={"Content-Type": "application/json", **headers},
            )
            response = connection.getresponse()
            read = 0
            while read < MAX_RESPONSE_BYTES and time.monotonic() < deadline:
                chunk = response.read(min(8192, MAX_RESPONSE_BYTES - read))
                if not chunk:
                    break
                read += len(chunk)
            return Answer(status=response.status)
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            return Answer(status=None, error=f"{type(exc).__name__}: {exc}"[:1000])
        finally:
            connection.close()
    return Answer(status=None, error=("; ".join(errors) or "timed out")[:1000])
