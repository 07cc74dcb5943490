"""Stockroom measured from outside, as a client sees it (issue 14): gunicorn, wrk, PostgreSQL.

Run (needs PostgreSQL at 127.0.0.1:5432, Redis at 127.0.0.1:6379 and Debian's `wrk`):
    .venv/bin/python -m bench http

What it does, by itself, and undoes at the end (or on an error):
1. makes a fresh PostgreSQL database, BENCH_HTTP_DATABASE_URL (default
   postgres://postgres@127.0.0.1:5432/bench_http; its name must start with `bench_http`), runs
   `manage.py migrate` on it and seeds one organization with BENCH_HTTP_PRODUCTS products
   (100,000; 1,000,000 works too) through bench.seed: 50 categories, "Green" in 20% of the
   names, stock levels, lots and `initial` movements that keep the ledger's invariants, 6% low
   stock, some expired and expiring products, and BENCH_HTTP_ORDERS (200) fulfilled sales
   orders made by sales.services. BENCH_HTTP_KEEPDB=1 reuses a database seeded by an earlier
   run (and keeps it afterwards; otherwise it is dropped at the end);
2. starts gunicorn (`config.wsgi:application`, BENCH_HTTP_WORKERS=2 sync workers) on a free
   127.0.0.1 port with production settings: DEBUG=false, a generated SECRET_KEY, the database
   above (Django's psycopg pool), Redis db 3 as cache and broker (BENCH_HTTP_REDIS_URL; the
   harness flushes that db), throttling on with limits no load reaches;
3. logs in over HTTP (POST /api/login/) for a Bearer access token;
4. runs `wrk -t2 -c16 -d10s` (BENCH_HTTP_THREADS, BENCH_HTTP_CONNECTIONS, BENCH_HTTP_DURATION)
   against each request of the table, BENCH_HTTP_RUNS (2) rounds, each after a
   BENCH_HTTP_WARMUP (2 s) warm-up; a run with a non-2xx answer or a socket error is reported
   as such and not counted;
5. runs the SQL each request runs (captured in-process through the same WSGI application) in
   a loop on a plain psycopg connection, BENCH_HTTP_SQL_SECONDS (3) per request, one
   connection, then one per worker in parallel: what the SQL alone costs, and its share of the
   time a worker spends per request;
6. times the CSV export: `COPY (the export's own query) TO STDOUT` through psycopg 3 against
   the HTTP download of the same rows, and the gunicorn workers' resident memory (VmRSS,
   sampled every 20 ms) before, during and after it;
7. sales (issue 28): one-line sales orders POSTed with `"status": "fulfilled"` by 30 wrk
   connections (a Lua script), on products picked at random among 3,000 (given stock first,
   through stock.services), then all on one hot product, BENCH_HTTP_RUNS rounds each: orders
   per second against the goals (distinct >= 120, twice the 58-61 before issue 28; hot >= 0.5x
   distinct), CPU per order, and the checks that every order took one unit out by one OUT
   movement, no product went below zero and the ledger is clean;
8. prints the table: request, req/s (better / worse run), goal, met or not, against
   /users/me/, SQL figures, then the sales lines; then stops gunicorn.

BENCH_HTTP_ONLY=<substring> measures only the matching requests (the export row is
"export", the sales "sales"). `python -m bench http_profile` profiles the same requests
in-process (pyinstrument).
"""

import contextlib
import http.client
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
ORGANIZATION_NAME = "Bench HTTP shop"
PASSWORD = "bench-password-123"  # bench.seed.make_organization's
INNER = "BENCH_HTTP_INNER"  # set in the child process that runs with the harness's settings
WRK_INSTALL = "apt-get update && apt-get install -y wrk"


@dataclass(frozen=True)
class Row:
    """One request of the table: its label, its path (`{category}` and `{product}` are filled
    in), its goal in requests per second (None: the floor the others are compared with) and its
    goal against that floor (issue 28: a share of /users/me/'s req/s)."""

    label: str
    path: str
    goal: float | None
    versus_goal: float | None = None


ROWS = [
    Row("GET /api/users/me/", "/api/users/me/", None),
    Row("GET /api/products/", "/api/products/", 635, 0.6),
    Row("GET /api/products/{id}/", "/api/products/{product}/", None, 0.8),
    Row(
        "GET /api/products/?page_size=100&ordering=-price&category=…",
        "/api/products/?page_size=100&ordering=-price&category={category}",
        250,
        0.35,
    ),
    Row(
        "GET /api/products/?search=green&page_size=50",
        "/api/products/?search=green&page_size=50",
        150,
    ),
    Row("GET /api/dashboard/", "/api/dashboard/", 272),
    Row("GET /api/products/alerts/", "/api/products/alerts/", 144),
]
EXPORT_PATH = "/api/products/export/"
EXPORT_GOAL_RATIO = 0.5  # of COPY's rows/s
EXPORT_GOAL_RSS_MB = 50  # worker memory growth, at 1M rows


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)).replace("_", ""))


def _env_bool(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Options:
    """The harness's settings, from BENCH_HTTP_* environment variables."""

    products: int = 100_000
    orders: int = 200
    duration: int = 10
    connections: int = 16
    threads: int = 2
    runs: int = 2
    warmup: int = 2
    workers: int = 2
    sql_seconds: int = 3
    gunicorn_timeout: int = 300
    keepdb: bool = False
    only: str = ""
    database_url: str = "postgres://postgres@127.0.0.1:5432/bench_http"
    redis_url: str = "redis://127.0.0.1:6379/3"

    @classmethod
    def from_env(cls) -> "Options":
        return cls(
            products=_env_int("BENCH_HTTP_PRODUCTS", cls.products),
            orders=_env_int("BENCH_HTTP_ORDERS", cls.orders),
            duration=_env_int("BENCH_HTTP_DURATION", cls.duration),
            connections=_env_int("BENCH_HTTP_CONNECTIONS", cls.connections),
            threads=_env_int("BENCH_HTTP_THREADS", cls.threads),
            runs=_env_int("BENCH_HTTP_RUNS", cls.runs),
            warmup=_env_int("BENCH_HTTP_WARMUP", cls.warmup),
            workers=_env_int("BENCH_HTTP_WORKERS", cls.workers),
            sql_seconds=_env_int("BENCH_HTTP_SQL_SECONDS", cls.sql_seconds),
            gunicorn_timeout=_env_int("BENCH_HTTP_GUNICORN_TIMEOUT", cls.gunicorn_timeout),
            keepdb=_env_bool("BENCH_HTTP_KEEPDB"),
            only=os.environ.get("BENCH_HTTP_ONLY", ""),
            database_url=os.environ.get("BENCH_HTTP_DATABASE_URL", cls.database_url),
            redis_url=os.environ.get("BENCH_HTTP_REDIS_URL", cls.redis_url),
        )

    @property
    def database_name(self) -> str:
        return urlsplit(self.database_url).path.lstrip("/")


def say(line: str = "") -> None:
    print(line, flush=True)


# --- The environment the application runs with (gunicorn, and the in-process child) ------------


def app_environment(options: Options) -> dict[str, str]:
    """Production settings for this host: what gunicorn and the measuring child run with."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=options.database_url,
        REDIS_URL=options.redis_url,
        ALLOWED_HOSTS="127.0.0.1",
        # Throttling runs on every request, as in production, with limits no load reaches. Per
        # second: DRF keeps every request's time of the window in the cache entry, so a
        # per-minute window would grow that list to 60x the request rate and measure its pickling.
        THROTTLE_USER="100000000/second",
        THROTTLE_ANON="100000000/second",
        JWT_ACCESS_TOKEN_MINUTES="600",
        # Seeding fulfils orders: their low-stock notifications run in the seeding process
        # (nothing queued in Redis without a worker) and their emails stay in memory.
        CELERY_TASK_ALWAYS_EAGER="true",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="WARNING",
    )
    return env


# --- The database (made and dropped by the parent process) -------------------------------------


def _maintenance_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres"))


def _check_name(name: str) -> None:
    if not name.startswith("bench_http"):
        raise SystemExit(
            f"BENCH_HTTP_DATABASE_URL's database must be named bench_http...: {name!r}"
        )


def prepare_database(options: Options) -> bool:
    """Create the database afresh, or with BENCH_HTTP_KEEPDB keep an existing one; True when
    it existed and is kept."""
    import psycopg

    name = options.database_name
    _check_name(name)
    with psycopg.connect(_maintenance_url(options.database_url), autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if exists and options.keepdb:
            return True
        if exists:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return False


def drop_database(options: Options) -> None:
    """Drop the harness's own database (never one whose name does not start with bench_http)."""
    import psycopg

    name = options.database_name
    _check_name(name)
    with psycopg.connect(_maintenance_url(options.database_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Seeding (in the child, with Django set up on the harness's database) ----------------------


@dataclass
class Seeded:
    """What the requests need from the seeded data."""

    organization_id: int
    username: str
    category_id: int
    products: int
    product_id: int


def migrate() -> None:
    """`manage.py migrate` on the harness's database (plain, as an operator runs it)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        say(result.stdout + result.stderr)
        raise SystemExit("manage.py migrate failed")
    applied = result.stdout.count(" OK")
    say(f"migrate: {applied} migrations applied ({time.perf_counter() - started:.0f}s)")


def ensure_seeded(options: Options) -> Seeded:
    """The organization of an earlier run (BENCH_HTTP_KEEPDB) or a freshly seeded one."""
    from bench.seed import fulfil_sales_orders, make_organization, seed_catalogue
    from inventory.models import Category, Product
    from users.models import Organization, User

    organization = Organization.objects.filter(name=ORGANIZATION_NAME).first()
    if organization is None:
        started = time.perf_counter()
        say(f"seeding {options.products:,} products and {options.orders} fulfilled sales orders")
        organization, _user = make_organization(ORGANIZATION_NAME)
        seed_catalogue(organization=organization, count=options.products, progress=say)
        user = User.objects.get(organization=organization)
        fulfil_sales_orders(
            organization=organization, user=user, count=options.orders, progress=say
        )
        say(f"seeded in {time.perf_counter() - started:.0f}s")
        if options.products <= 100_000:
            from stock.selectors import ledger_mismatches

            mismatches = ledger_mismatches(organization_id=organization.pk)
            say(f"ledger mismatches after seeding: {len(mismatches)}")
    else:
        say("reusing the seeded database (BENCH_HTTP_KEEPDB)")
    user = User.objects.filter(organization=organization).order_by("pk").first()
    count = Product.objects.filter(organization=organization).count()
    if count != options.products:
        raise SystemExit(
            f"the kept database holds {count:,} products, not {options.products:,}: "
            "run without BENCH_HTTP_KEEPDB to seed it again"
        )
    category = Category.objects.filter(organization=organization).order_by("name", "pk")[7]
    product = Product.objects.filter(organization=organization).order_by("pk")[count // 2]
    return Seeded(organization.pk, user.username, category.pk, count, product.pk)


# --- In-process requests through the WSGI application ------------------------------------------


def wsgi_request(
    application, path: str, *, token: str | None = None, method: str = "GET", body=b"", stream=False
):
    """Call the WSGI application as gunicorn does; (status, body bytes). With `stream`, only the
    first two chunks of the body are read (then the response is closed)."""
    path_info, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT": "*/*",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json" if body else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    status = []

    def start_response(line, headers, exc_info=None):
        status.append(int(line.split()[0]))
        return lambda data: None

    result = application(environ, start_response)
    try:
        if stream:  # the header line, then the first rows: the query has run by then
            chunks = iter(result)
            content = next(chunks, b"") + next(chunks, b"")
        else:
            content = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return status[0], content


def capture_queries(application, path: str, token: str, *, stream: bool = False) -> list[dict]:
    """The SQL one request runs (its text as sent, with its time in ms), in-process."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()  # the request resets the log at its start; begin from 0 so nothing is lost
    with CaptureQueriesContext(connection) as captured:
        status, _ = wsgi_request(application, path, token=token, stream=stream)
    if status != 200:
        raise SystemExit(f"{path}: in-process answer {status}")
    return [{"sql": q["sql"], "ms": float(q["time"]) * 1000} for q in captured.captured_queries]


def describe_query(sql: str) -> str:
    """A short name for a query: its tables and what kind of query it is."""
    text = " ".join(sql.split())
    tables = []
    for name in re.findall(r'(?:FROM|JOIN) "([a-z_]+)"', text):
        if name not in tables:
            tables.append(name)
    kind = "count" if re.match(r"SELECT COUNT\(\*\)", text) else text.split(" ", 1)[0].lower()
    if " LIMIT " in text:
        kind += " " + text[text.rindex(" LIMIT ") + 1 :]
    return f"{kind}: {', '.join(tables[:4])}"


# --- gunicorn ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving config.wsgi:application on 127.0.0.1, started and stopped by us."""

    def __init__(self, options: Options):
        self.options = options
        self.port = free_port()
        handle, name = tempfile.mkstemp(prefix="bench-http-gunicorn-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi:application",
            "--workers", str(self.options.workers), "--bind", self.base,
            "--timeout", str(self.options.gunicorn_timeout), "--log-level", "warning",
        ]  # fmt: skip
        # The workers queue their tasks on Redis, as in production (no Celery worker runs
        # here: what a request queues is not done in it); the seeding child runs them eagerly.
        env = {**os.environ, "CELERY_TASK_ALWAYS_EAGER": "false"}
        with self.log_path.open("wb") as log:  # the child keeps its own copy of the handle
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.process.returncode}):\n{self.tail()}")
            try:
                status, _ = http_get(self.base, "/api/health/")
                if status == 200 and len(self.worker_pids()) == self.options.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer /api/health/ within 60 s:\n{self.tail()}")

    def worker_pids(self) -> list[int]:
        """The master's children: the sync workers."""
        pid = self.process.pid
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        """Graceful stop (SIGTERM to the master, which stops its workers), then SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for pid in self.worker_pids():
                os.kill(pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait()


# --- HTTP clients ------------------------------------------------------------------------------


def http_get(base: str, path: str, *, token: str | None = None) -> tuple[int, bytes]:
    host, port = base.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=600)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def log_in(base: str, username: str) -> str:
    """POST /api/login/: the Bearer access token."""
    host, port = base.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        body = json.dumps({"username": username, "password": PASSWORD})
        connection.request(
            "POST", "/api/login/", body=body, headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise SystemExit(f"login answered {response.status}: {data[:300]!r}")
    return json.loads(data)["access"]


# --- wrk -----------------------------------------------------------------------------------------


@dataclass
class WrkRun:
    """One wrk run: requests per second, and what went wrong (a run with errors is not counted)."""

    rps: float
    requests: int
    non_2xx: int
    socket_errors: dict[str, int]
    latency: str
    output: str
    app_cpu_ms: float = 0.0  # gunicorn workers' CPU time per request
    db_cpu_ms: float = 0.0  # this database's PostgreSQL backends' CPU time per request
    load: str = ""  # /proc/loadavg when the run started: other work on the machine

    @property
    def errors(self) -> str:
        if not self.requests:
            return "no answer within the run"
        problems = [f"{n} non-2xx" for n in [self.non_2xx] if n]
        problems += [f"{n} {kind}" for kind, n in self.socket_errors.items() if n]
        return ", ".join(problems)


def parse_wrk(output: str) -> WrkRun:
    """Requests/sec, the request count, 'Non-2xx or 3xx responses' (wrk counts status >= 400
    there; 3xx are caught by the check before the runs) and the socket errors."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    requests = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    latency = re.search(r"Latency\s+(\S+)", output)
    if rps is None or requests is None:
        raise SystemExit(f"could not read wrk's output:\n{output}")
    errors = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()), strict=True))
        if sockets
        else {}
    )
    return WrkRun(
        rps=float(rps.group(1)),
        requests=int(requests.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=errors,
        latency=latency.group(1) if latency else "?",
        output=output,
    )


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def backend_pids(database: str) -> list[int]:
    """PostgreSQL backends connected to `database` (their title names it), on this machine."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
            pids.append(int(entry.name))
    return pids


class CpuMeter:
    """CPU seconds used between start() and stop() by the workers and the database's backends:
    unlike req/s, hardly changed by what else runs on the machine."""

    def __init__(self, workers: list[int], database: str):
        self.workers = workers
        self.database = database

    def start(self) -> None:
        self.app = sum(cpu_seconds(pid) for pid in self.workers)
        self.backends = {pid: cpu_seconds(pid) for pid in backend_pids(self.database)}

    def stop(self) -> tuple[float, float]:
        app = sum(cpu_seconds(pid) for pid in self.workers) - self.app
        db = sum(
            cpu_seconds(pid) - self.backends.get(pid, 0.0) for pid in backend_pids(self.database)
        )
        return app, db


def run_wrk(
    options: Options,
    url: str,
    token: str,
    seconds: int,
    meter: CpuMeter | None = None,
    *,
    script: str | None = None,
    connections: int | None = None,
) -> WrkRun:
    """One wrk run against `url` with the Bearer token (and a Lua `script` file that makes the
    requests, JSON bodies); with a meter, the CPU per request."""
    load = Path("/proc/loadavg").read_text().split()[0]
    command = [
        "wrk", f"-t{options.threads}", f"-c{connections or options.connections}",
        f"-d{seconds}s", "--timeout", "30s", "-H", f"Authorization: Bearer {token}",
    ]  # fmt: skip
    if script:
        command += ["-H", "Content-Type: application/json", "-s", script]
    command.append(url)
    if meter is not None:
        meter.start()
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode:
        raise SystemExit(f"wrk failed ({result.returncode}): {result.stderr}")
    run = parse_wrk(result.stdout)
    run.load = load
    if meter is not None and run.requests:
        app, db = meter.stop()
        run.app_cpu_ms = app / run.requests * 1000
        run.db_cpu_ms = db / run.requests * 1000
    return run


def drain(base: str) -> float:
    """Wait until the workers have answered what wrk left queued (requests it sent and stopped
    waiting for still run): a /api/health/ request queues behind them. Seconds waited."""
    started = time.perf_counter()
    http_get(base, "/api/health/")
    return time.perf_counter() - started


# --- The same SQL, without Python in between ---------------------------------------------------


def _psycopg_connect(options: Options):
    import psycopg

    # As the application connects: no JIT (config.settings).
    return psycopg.connect(options.database_url, autocommit=True, options="-c jit=off")


def time_sql(options: Options, queries: list[str], *, parallel: int) -> tuple[float, float]:
    """Run the request's queries in a loop on `parallel` connections for BENCH_HTTP_SQL_SECONDS:
    (ms per request on one connection, requests per second they sustain together)."""
    counts = [0] * parallel
    connections = [_psycopg_connect(options) for _ in range(parallel)]
    for connection in connections:  # warm: plans, buffers
        for sql in queries:
            connection.execute(sql).fetchall()
    barrier = threading.Barrier(parallel + 1)
    seconds = options.sql_seconds

    def loop(index: int) -> None:
        connection = connections[index]
        barrier.wait()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            for sql in queries:
                connection.execute(sql).fetchall()
            counts[index] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(parallel)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    total = sum(counts)
    return elapsed * parallel / max(total, 1) * 1000, total / elapsed


def per_query_ms(options: Options, queries: list[str], *, repeat: int = 30) -> list[float]:
    """Each query's median time in ms over `repeat` runs on one psycopg connection (warm), or
    fewer for a slow one: as many as fit in 3 s, at least 3."""
    times = []
    with _psycopg_connect(options) as connection:
        for sql in queries:
            connection.execute(sql).fetchall()
            runs = []
            deadline = time.perf_counter() + 3
            while len(runs) < repeat and (len(runs) < 3 or time.perf_counter() < deadline):
                started = time.perf_counter()
                connection.execute(sql).fetchall()
                runs.append(time.perf_counter() - started)
            times.append(statistics.median(runs) * 1000)
    return times


def repeatable(queries: list[dict]) -> list[str]:
    """The SELECTs of a captured request (transaction control and the like are left out)."""
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]


# --- Export: COPY against the HTTP download ----------------------------------------------------


def export_select(queries: list[dict]) -> str:
    """The export's own SELECT among its captured queries (a server-side cursor's DECLARE ...
    FOR <select> included)."""
    candidates = [q["sql"] for q in queries if '"inventory_product"' in q["sql"]]
    if not candidates:
        raise SystemExit("the export ran no query on inventory_product")
    sql = max(candidates, key=len).strip()
    declare = re.match(r"DECLARE .*? CURSOR .*?FOR (SELECT .*)$", sql, flags=re.S | re.I)
    copy = re.match(r"COPY \((SELECT .*)\) TO STDOUT .*$", sql, flags=re.S | re.I)
    return declare.group(1) if declare else copy.group(1) if copy else sql


def plain_export_select() -> str:
    """The export's rows and columns as a plain SELECT (values as stored, no cell formatted):
    what COPY costs at the least."""
    from django.db import connection

    from core.dates import local_today
    from inventory.exports import PRODUCT_COLUMNS
    from purchases.selectors import products_with_on_order
    from users.models import Organization

    organization = Organization.objects.get(name=ORGANIZATION_NAME)
    rows = (
        products_with_on_order(today=local_today(organization))
        .filter(organization=organization, is_archived=False)
        .order_by("name", "id")
        .values_list(*(column.expression for column in PRODUCT_COLUMNS))
    )
    sql, params = rows.query.sql_with_params()
    with connection.cursor():  # connected: compose_sql quotes with the connection's rules
        return connection.ops.compose_sql(sql, params) if params else sql


def copy_export(options: Options, select: str) -> tuple[int, int, float]:
    """`COPY (select) TO STDOUT (FORMAT csv, HEADER)` read through psycopg 3: (rows, bytes, s)."""
    with _psycopg_connect(options) as connection:
        started = time.perf_counter()
        lines = size = 0
        statement = f"COPY ({select}) TO STDOUT (FORMAT csv, HEADER)"
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for block in copy:
                lines += bytes(block).count(b"\n")
                size += len(block)
        return lines - 1, size, time.perf_counter() - started


def _rss_kb(pid: int, field_name: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Download:
    status: int
    rows: int
    size: int
    seconds: float
    before_kb: dict[int, int] = field(default_factory=dict)
    peak_kb: dict[int, int] = field(default_factory=dict)
    after_kb: dict[int, int] = field(default_factory=dict)

    @property
    def peak_growth_mb(self) -> float:
        return max((self.peak_kb[p] - self.before_kb[p] for p in self.before_kb), default=0) / 1024

    @property
    def kept_growth_mb(self) -> float:
        return max((self.after_kb[p] - self.before_kb[p] for p in self.before_kb), default=0) / 1024


def download_export(server: Server, token: str) -> Download:
    """GET the export over HTTP, read as it streams (rows counted by line), while a thread
    samples every worker's VmRSS every 20 ms (and the kernel's VmHWM, reset before, when
    /proc/<pid>/clear_refs allows it)."""
    pids = server.worker_pids()
    for pid in pids:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak RSS (VmHWM)
    before = {pid: _rss_kb(pid) for pid in pids}
    peak = dict(before)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in pids:
                peak[pid] = max(peak[pid], _rss_kb(pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    host, port = server.base.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=600)
    lines = size = 0
    started = time.perf_counter()
    try:
        connection.request("GET", EXPORT_PATH, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        while chunk := response.read1(1 << 18):
            lines += chunk.count(b"\n")
            size += len(chunk)
        seconds = time.perf_counter() - started
    finally:
        connection.close()
        done.set()
        sampler.join()
    time.sleep(0.5)
    for pid in pids:
        peak[pid] = max(peak[pid], _rss_kb(pid, "VmHWM"))
    after = {pid: _rss_kb(pid) for pid in pids}
    return Download(response.status, lines - 1, size, seconds, before, peak, after)


# --- The run -------------------------------------------------------------------------------------


@dataclass
class Measured:
    """Everything measured for one request of the table."""

    row: Row
    path: str
    queries: list[dict]
    runs: list[WrkRun] = field(default_factory=list)
    sql_ms: float = 0.0
    sql_rps: float = 0.0

    @property
    def good(self) -> list[float]:
        return sorted((run.rps for run in self.runs if not run.errors), reverse=True)

    def cpu_ms(self) -> tuple[float, float]:
        """The workers' and PostgreSQL's CPU ms per request, the least of the counted runs."""
        counted = [run for run in self.runs if not run.errors] or [WrkRun(0, 0, 0, {}, "", "")]
        return min(run.app_cpu_ms for run in counted), min(run.db_cpu_ms for run in counted)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:,.1f}"


def print_table(options: Options, measured: list[Measured], export: dict | None) -> None:
    """The table of issue 14: req/s (better / worse run), goal, met, against /users/me/, SQL."""
    floor = next((m.good[0] for m in measured if m.row is ROWS[0] and m.good), None)
    say()
    say(
        f"{options.products:,} products, gunicorn {options.workers} sync workers, "
        f"wrk -t{options.threads} -c{options.connections} -d{options.duration}s, "
        f"{options.runs} runs each (better / worse)"
    )
    header = (
        f"{'request':<62} {'req/s':>15} {'goal':>7} {'result':>8} {'vs me':>6} {'goal':>14} "
        f"{'app CPU':>7} {'DB CPU':>6} {'CPU-bound':>9} "
        f"{'queries':>7} {'SQL ms':>7} {'SQL share':>9} {'SQL-only':>8}"
    )
    say(header)
    say("-" * len(header))
    for m in measured:
        good = m.good
        rps = f"{_fmt(good[0])} / {_fmt(good[-1])}" if good else "errors"
        goal = ("floor" if m.row is ROWS[0] else "-") if m.row.goal is None else f">={m.row.goal:g}"
        if m.row.goal is None:
            result = "-"
        elif not good:
            result = "errors"
        else:
            result = "met" if good[0] >= m.row.goal else "not met"
        versus = f"{good[0] / floor:.2f}x" if good and floor else "-"
        versus_goal = "-"
        if m.row.versus_goal and good and floor:
            met = "met" if good[0] / floor >= m.row.versus_goal else "not met"
            versus_goal = f">={m.row.versus_goal:g}x {met}"
        # Share of a worker's time per request spent waiting for SQL: sql_ms / (workers / rps).
        share = f"{m.sql_ms / 1000 * good[0] / options.workers:.0%}" if good else "-"
        app_cpu, db_cpu = m.cpu_ms()
        bound = _fmt(CORES * 1000 / (app_cpu + db_cpu)) if app_cpu + db_cpu else "-"
        say(
            f"{m.row.label:<62} {rps:>15} {goal:>7} {result:>8} {versus:>6} {versus_goal:>14} "
            f"{app_cpu:>7.1f} {db_cpu:>6.1f} {bound:>9} "
            f"{len(m.queries):>7} {m.sql_ms:>7.2f} {share:>9} {_fmt(m.sql_rps):>8}"
        )
        for run in m.runs:
            if run.errors:
                say(f"    a run with errors, not counted: {run.errors} ({run.rps:.0f} req/s)")
    if export:
        met = "met" if export["ratio"] >= EXPORT_GOAL_RATIO else "not met"
        say(
            f"{'GET /api/products/export/':<62} {_fmt(export['http_rows_s']):>9} rows/s; "
            f"COPY {_fmt(export['copy_rows_s'])} rows/s: {export['ratio']:.2f}x "
            f"(goal >= {EXPORT_GOAL_RATIO}x: {met}); "
            f"worker RSS +{export['peak_mb']:.1f} MB peak, +{export['kept_mb']:.1f} MB kept "
            f"(goal <= {EXPORT_GOAL_RSS_MB} MB at 1M rows; {export['rows']:,} rows here)"
        )
    say(
        "req/s: wrk's, better / worse counted run. app CPU, DB CPU: ms of CPU per request used "
        "by the gunicorn workers and by this database's PostgreSQL backends (the lesser of the "
        f"runs); CPU-bound: the req/s those two allow on {CORES} cores (wrk's own CPU not "
        "counted). SQL ms: the request's SELECTs run back to back on one psycopg connection; SQL "
        "share: SQL ms x req/s / workers; SQL-only: req/s of those SELECTs alone, one connection "
        "per worker."
    )


# --- Sales over HTTP (issue 28) ------------------------------------------------------------------

SALES_CLIENTS = 30
SALES_DISTINCT = 3_000  # products picked from at random: 30 clients seldom meet on one
SALES_GOAL = 120  # one-line orders fulfilled per second, distinct: 2x the 58-61 before issue 28
SALES_HOT_RATIO = 0.5  # the hot product's orders/s against distinct products'
SALES_LUA = """
-- One-line sales orders fulfilled on creation, each on a product picked at random from ids.
local ids = {%s}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
function init(args)
  math.randomseed(seed * 7919)
end
function request()
  local id = ids[math.random(#ids)]
  return wrk.format("POST", nil, nil,
    '{"status": "fulfilled", "items": [{"product": ' .. id .. ', "quantity": 1}]}')
end
"""


def stock_for_sales(seeded: Seeded) -> tuple[list[int], int]:
    """SALES_DISTINCT stock-keeping products without lots, each given stock (through
    stock.services) that no run sells out, the first of them much more: it is the hot one."""
    from inventory.selectors import stock_keeping_products
    from stock.services import StockLine, add_to_stock

    products = stock_keeping_products(organization_id=seeded.organization_id)
    ids = list(
        products.filter(track_lots=False)
        .order_by("pk")
        .values_list("pk", flat=True)[:SALES_DISTINCT]
    )
    lines = [StockLine(pk, 100_000 if n == 0 else 1_000) for n, pk in enumerate(ids)]
    add_to_stock(lines=lines, source="manual", reference="bench http", user=None)
    return ids, ids[0]


def sales_figures(organization_id: int, ids: list[int]) -> dict:
    from inventory.models import Product
    from sales.models import SalesOrder
    from stock.models import StockMovement

    return {
        "orders": SalesOrder.objects.filter(organization_id=organization_id).count(),
        "out": StockMovement.objects.filter(
            organization_id=organization_id, source="sales_order"
        ).count(),
        "units": sum(Product.objects.filter(pk__in=ids).values_list("quantity", flat=True)),
        "oversold": Product.objects.filter(pk__in=ids, quantity__lt=0).count(),
    }


def settled_sales_figures(organization_id: int, ids: list[int], *, wait: float = 30.0) -> dict:
    """`sales_figures` once they stop moving: `drain` returns when one worker is free, while
    another may still be committing an order wrk gave up on (read in between, the orders, the
    movements and the units counted one after the other disagree by the orders in flight)."""
    figures, deadline = sales_figures(organization_id, ids), time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(0.5)
        again = sales_figures(organization_id, ids)
        if again == figures:
            return figures
        figures = again
    say(f"the sales figures still moved after {wait:.0f} s: the checks read them as they were")
    return figures


def measure_sales(options: Options, server: Server, token: str, seeded: Seeded) -> list[str]:
    """One-line sales orders POSTed fulfilled by SALES_CLIENTS connections, on products picked
    at random among SALES_DISTINCT, then all on one hot product; then the checks: every order
    took one unit out by one movement, no product below zero, the ledger clean. Lines of the
    table."""
    from stock.selectors import ledger_mismatches

    ids, hot = stock_for_sales(seeded)
    before = sales_figures(seeded.organization_id, ids)
    meter = CpuMeter(server.worker_pids(), options.database_name)
    url = f"http://{server.base}/api/sales-orders/"
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, picked in (("distinct products", ids), ("one hot product", [hot])):
            script = Path(folder) / f"sales-{len(picked)}.lua"
            script.write_text(SALES_LUA % ", ".join(map(str, picked)))
            runs = []
            for round_ in range(options.runs):
                if round_ == 0 and options.warmup:
                    run_wrk(options, url, token, options.warmup, script=str(script),
                            connections=SALES_CLIENTS)  # fmt: skip
                    drain(server.base)
                run = run_wrk(options, url, token, options.duration, meter, script=str(script),
                              connections=SALES_CLIENTS)  # fmt: skip
                drain(server.base)
                runs.append(run)
                note = f" ERRORS: {run.errors}" if run.errors else ""
                say(
                    f"sales, {label}, round {round_ + 1}: {run.rps:.1f} orders/s, latency "
                    f"{run.latency}, CPU per order: workers {run.app_cpu_ms:.1f} ms, PostgreSQL "
                    f"{run.db_cpu_ms:.1f} ms; load average {run.load}{note}"
                )
            results[label] = runs
    after = settled_sales_figures(seeded.organization_id, ids)
    orders = after["orders"] - before["orders"]
    out = after["out"] - before["out"]
    sold = before["units"] - after["units"]
    mismatches = ledger_mismatches(organization_id=seeded.organization_id)
    clean = orders == out == sold and not after["oversold"] and not mismatches
    best = {
        label: max((run.rps for run in runs if not run.errors), default=0.0)
        for label, runs in results.items()
    }
    distinct, one = best["distinct products"], best["one hot product"]
    lines = []
    for label, runs in results.items():
        counted = [run for run in runs if not run.errors]
        rps = " / ".join(_fmt(run.rps) for run in sorted(counted, key=lambda r: -r.rps)) or "errors"
        app = min((run.app_cpu_ms for run in counted), default=0.0)
        db = min((run.db_cpu_ms for run in counted), default=0.0)
        if label == "distinct products":
            goal = f"goal >= {SALES_GOAL}: {'met' if distinct >= SALES_GOAL else 'not met'}"
        else:
            ratio = one / distinct if distinct else 0.0
            goal = (
                f"{ratio:.2f}x distinct, goal >= {SALES_HOT_RATIO}x: "
                f"{'met' if ratio >= SALES_HOT_RATIO else 'not met'}"
            )
        lines.append(
            f"POST /api/sales-orders/ (1 line, fulfilled), {SALES_CLIENTS} clients, {label}: "
            f"{rps} orders/s ({goal}); CPU per order: workers {app:.1f} ms, PostgreSQL {db:.1f} ms"
        )
    lines.append(
        f"  {orders:,} orders made, {out:,} OUT movements, {sold:,} units gone, "
        f"{after['oversold']} products below zero, {len(mismatches)} ledger mismatches: "
        f"{'clean' if clean else 'NOT CLEAN'}"
    )
    return lines


def measure(options: Options) -> None:
    """The child: seed (or reuse), serve, log in, load, compare with SQL and COPY, print."""
    import django

    stop_on_signals()
    django.setup()
    from django.core.cache import cache

    migrate()
    seeded = ensure_seeded(options)
    cache.clear()  # Redis db 3 is the harness's: no count or throttle history of another run
    from config.wsgi import application

    rows = [r for r in ROWS if not options.only or options.only in r.label]
    with_export = not options.only or options.only in "export " + EXPORT_PATH
    with_sales = not options.only or options.only in "sales POST /api/sales-orders/"
    server = Server(options)
    say(f"starting gunicorn on {server.base} (log: {server.log_path})")
    server.start()
    try:
        token = log_in(server.base, seeded.username)
        measured = []
        for row in rows:
            path = row.path.format(category=seeded.category_id, product=seeded.product_id)
            status, body = http_get(server.base, path, token=token)
            if status != 200:
                raise SystemExit(f"{path} answered {status}: {body[:300]!r}")
            queries = capture_queries(application, path, token)
            measured.append(Measured(row, path, queries))
            say(f"checked {path}: 200, {len(body):,} bytes, {len(queries)} queries")
        meter = CpuMeter(server.worker_pids(), options.database_name)
        for round_ in range(options.runs):
            for m in measured:
                url = f"http://{server.base}{m.path}"
                if round_ == 0 and options.warmup:
                    run_wrk(options, url, token, options.warmup)
                    drain(server.base)
                run = run_wrk(options, url, token, options.duration, meter)
                waited = drain(server.base)
                m.runs.append(run)
                note = f" ERRORS: {run.errors}" if run.errors else ""
                say(
                    f"round {round_ + 1}: {m.row.label:<62} {run.rps:>8.1f} req/s, "
                    f"latency {run.latency}, CPU per request: workers {run.app_cpu_ms:.1f} ms, "
                    f"PostgreSQL {run.db_cpu_ms:.1f} ms; load average {run.load}{note}"
                )
                if waited > 1:
                    say(f"  (the workers were busy {waited:.1f} s more with what wrk left queued)")
        for m in measured:
            selects = repeatable(m.queries)
            m.sql_ms, _ = time_sql(options, selects, parallel=1)
            _, m.sql_rps = time_sql(options, selects, parallel=options.workers)
            say(
                f"SQL alone: {m.row.label:<62} {m.sql_ms:.2f} ms, "
                f"{m.sql_rps:,.0f} req/s on {options.workers} connections"
            )
        export = None
        if with_export:
            export = measure_export(options, server, application, token)
        sales = measure_sales(options, server, token, seeded) if with_sales else []
        print_table(options, measured, export)
        for line in sales:
            say(line)
        say("\nThe queries of each request (median ms of up to 30 runs on one psycopg connection):")
        for m in measured:
            say(f"{m.row.label}: {len(m.queries)} queries")
            selects = repeatable(m.queries)
            for sql, ms in zip(selects, per_query_ms(options, selects), strict=True):
                say(f"  {ms:7.2f} ms  {describe_query(sql)}")
    finally:
        server.stop()
        say("gunicorn stopped")


def measure_export(options: Options, server: Server, application, token: str) -> dict:
    """COPY of the export's own query against the HTTP download, and the workers' memory."""
    queries = capture_queries(application, EXPORT_PATH, token, stream=True)
    select = export_select(queries)
    copy_export(options, select)  # warm
    rows, size, copy_seconds = copy_export(options, select)
    say(f"COPY (export query) TO STDOUT: {rows:,} rows, {size / 1e6:.1f} MB in {copy_seconds:.2f}s")
    plain = plain_export_select()
    copy_export(options, plain)  # warm
    plain_rows, plain_size, plain_seconds = copy_export(options, plain)
    say(
        f"COPY (the same rows and columns, unformatted) TO STDOUT: {plain_rows:,} rows, "
        f"{plain_size / 1e6:.1f} MB in {plain_seconds:.2f}s"
    )
    download = download_export(server, token)
    if download.status != 200:
        raise SystemExit(f"export answered {download.status}")
    say(
        f"HTTP export: {download.rows:,} rows, {download.size / 1e6:.1f} MB "
        f"in {download.seconds:.2f}s; "
        f"worker VmRSS before {sorted(v // 1024 for v in download.before_kb.values())} MB, "
        f"peak {sorted(v // 1024 for v in download.peak_kb.values())} MB, "
        f"after {sorted(v // 1024 for v in download.after_kb.values())} MB"
    )
    if download.seconds > 30:
        say("  (longer than 30 s: a worker under docker-compose's --timeout 30 would be killed)")
    if download.rows != rows:
        say(f"  (the download has {download.rows:,} lines, COPY {rows:,} rows)")
    http_rows_s = download.rows / download.seconds
    copy_rows_s = rows / copy_seconds
    say(f"  against the unformatted COPY: {http_rows_s / (plain_rows / plain_seconds):.2f}x")
    return {
        "rows": download.rows,
        "http_rows_s": http_rows_s,
        "copy_rows_s": copy_rows_s,
        "ratio": http_rows_s / copy_rows_s,
        "peak_mb": download.peak_growth_mb,
        "kept_mb": download.kept_growth_mb,
    }


def stop_on_signals() -> None:
    """SIGTERM and SIGINT end the process through its `finally` blocks (gunicorn stopped, the
    child ended, the database dropped), even where a shell started it with SIGINT ignored."""

    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the clean-up runs to its end
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def run_child(module: str, options: Options) -> int:
    """Run `python -m bench <module>` with the harness's settings on a database made for it,
    and drop that database afterwards (unless BENCH_HTTP_KEEPDB)."""
    stop_on_signals()
    kept = prepare_database(options)
    say(f"database {options.database_name}: {'kept from an earlier run' if kept else 'created'}")
    env = {**app_environment(options), INNER: "1"}
    child = subprocess.Popen([sys.executable, "-m", "bench", module], cwd=ROOT, env=env)
    try:
        return child.wait()
    except SystemExit as stopped:
        if stopped.code == 128 + signal.SIGTERM:  # Ctrl-C reaches the child by itself
            child.terminate()
        raise
    finally:
        child.wait()  # until it has stopped its gunicorn
        if not options.keepdb:
            drop_database(options)
            say(f"database {options.database_name} dropped")


def main() -> None:
    options = Options.from_env()
    if os.environ.get(INNER) == "1":
        measure(options)
        return
    if shutil.which("wrk") is None:
        say(f"bench http needs Debian's wrk: `{WRK_INSTALL}`; skipped")
        return
    code = run_child("http", options)
    if code:
        raise SystemExit(code)
