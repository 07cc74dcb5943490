"""Start Stockroom the operator's way, as real processes on 127.0.0.1: a fresh PostgreSQL
database, `manage.py migrate`, gunicorn, optionally Redis and a Celery worker; plus the faults
(a Redis of our own that we stop, a PostgreSQL behind a proxy that we cut)."""

import contextlib
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
# Our settings' environment, none of which may leak in from the test run's own.
OWN_VARIABLES = ("DATABASE_", "REDIS_", "SECRET_KEY", "DEBUG", "SECURE_", "CELERY_", "EMAIL_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_url() -> str:
    """The PostgreSQL server the suite runs on (DATABASE_URL), without a database name."""
    parts = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return urllib.parse.urlunsplit(parts._replace(path="/postgres"))


@contextlib.contextmanager
def fresh_database():
    """A new, empty PostgreSQL database; dropped afterwards. Yields its URL."""
    name = f"stockroom_op_{secrets.token_hex(4)}"
    with psycopg.connect(server_url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(server_url())
    try:
        yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(database_url: str, sql: str, params=()):
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def base_env(**overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_VARIABLES)}
    if os.environ.get("DATABASE_PGBOUNCER"):
        # The server DATABASE_URL names is PgBouncer (`make test-pgbouncer`): so is theirs.
        env["DATABASE_PGBOUNCER"] = os.environ["DATABASE_PGBOUNCER"]
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    env.update({k: v for k, v in overrides.items() if v is not None})
    return env


def manage(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result


class Process:
    """A child process whose output is kept in a file, stopped at the end."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.log_path = log
        self._log = open(log, "w")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self._log, stderr=self._log)

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def stop(self, sig=None):
        if self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


class Gunicorn(Process):
    def __init__(self, env: dict, log: Path, *, workers: int = 2, options: tuple = ()):
        self.port = free_port()
        super().__init__(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--timeout",
                "30",
                *options,
            ],
            env,
            log,
        )
        self.client = Client(f"http://127.0.0.1:{self.port}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.output()}")
            with contextlib.suppress(OSError):
                status, _ = self.client.get("/api/health/")
                if status in (200, 503):
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer:\n{self.output()}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """HTTP/JSON over a TLS-terminating proxy's headers (`X-Forwarded-Proto: https`)."""

    def __init__(self, base: str):
        self.base = base
        self.headers = {"X-Forwarded-Proto": "https"}
        self.opener = urllib.request.build_opener(_NoRedirect)

    def request(self, method: str, path: str, body=None, *, headers=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={**self.headers, **({"Content-Type": "application/json"} if data else {}),
                     **(headers or {})},
        )  # fmt: skip
        try:
            with self.opener.open(request, timeout=timeout) as response:
                status, raw, kind = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, raw, kind = error.code, error.read(), error.headers
        content_type = kind.get("Content-Type", "")
        if content_type.startswith("application/json") and raw:
            return status, json.loads(raw)
        return status, raw.decode(errors="replace")

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def post_chunked(self, path: str, raw: bytes, *, chunk: int = 64 * 1024):
        """POST with `Transfer-Encoding: chunked` (no Content-Length): (status, JSON body)."""
        parts = urllib.parse.urlsplit(self.base)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            connection.request(
                "POST",
                path,
                body=(raw[i : i + chunk] for i in range(0, len(raw), chunk)),
                headers={**self.headers, "Content-Type": "application/json"},
                encode_chunked=True,
            )
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()

    def send_raw(self, head: str, body: bytes = b"") -> tuple[int, str, bytes]:
        """Send these request bytes as they are, then close our side (a client that sent all it
        had): (status, Content-Type, body) of the answer."""
        parts = urllib.parse.urlsplit(self.base)
        headers = "".join(f"{name}: {value}\r\n" for name, value in self.headers.items())
        request = head.replace("\r\n", f"\r\n{headers}", 1).encode() + body
        with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
            answer = b""
            while data := sock.recv(65536):
                answer += data
        head_part, _, content = answer.partition(b"\r\n\r\n")
        status_line, *lines = head_part.decode("latin-1").split("\r\n")
        headers = {name.strip().lower(): value.strip()
                   for name, _, value in (line.partition(":") for line in lines)}  # fmt: skip
        if headers.get("transfer-encoding") == "chunked":
            content = _unchunk(content)
        return int(status_line.split()[1]), headers.get("content-type", ""), content

    def authenticate(self, access: str) -> "Client":
        other = Client(self.base)
        other.headers = {**self.headers, "Authorization": f"Bearer {access}"}
        return other


def _unchunk(data: bytes) -> bytes:
    body = b""
    while data:
        size, _, data = data.partition(b"\r\n")
        if not int(size, 16):
            break
        body, data = body + data[: int(size, 16)], data[int(size, 16) + 2 :]
    return body


class RedisServer:
    """A Redis of the test's own, on its own port (never the machine's shared one). `persist`:
    every write goes to its append-only file first, so that once stopped (even killed) it
    starts again with the data it had, as a Redis with persistence does after a restart."""

    def __init__(self, workdir: Path, *, persist: bool = False):
        self.port = free_port()
        self.workdir = workdir
        self.persist = persist
        self.proc = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes" if self.persist else "no",
                "--appendfsync",
                "always",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


class TcpProxy:
    """127.0.0.1:port -> target, which can be cut (every connection closed, new ones refused)
    and restored: what the server sees when PostgreSQL restarts."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = None
        self.start()

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def cut(self):
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self):
        self.start()


PASSWORD = "a-long-shop-passphrase-42"


def set_up(env: dict) -> None:
    """What the README says, and nothing else: migrate, collect the static files."""
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        result = manage(env, *command)
        assert result.returncode == 0, result.stdout + result.stderr


def open_shop(client, *, username="owner"):
    """Register, log in, create a product with stock: what a new shop does first."""
    status, user = client.post(
        "/api/register/",
        {"username": username, "email": f"{username}@corner.example", "password": PASSWORD,
         "organization": "Corner Shop"},
    )  # fmt: skip
    assert status == 201, user
    status, session = client.post("/api/login/", {"username": username, "password": PASSWORD})
    assert status == 200, session
    shop = client.authenticate(session["access"])
    return shop
