"""Where each request of `bench http` spends its time, in-process, profiled with pyinstrument.

Run:
    .venv/bin/python -m bench http_profile
    BENCH_HTTP_KEEPDB=1 .venv/bin/python -m bench http_profile   # on the kept bench_http database

Same database, seeding and settings as `python -m bench http` (see bench/http.py: production
settings, Redis db 3 as the cache, the same BENCH_HTTP_* options), but no gunicorn: each request
goes through config.wsgi's application in this process, as a gunicorn sync worker calls it
(every middleware, JWT authentication, throttling, rendering; the body read to its end). For
each request of the table, after 10 warm-up calls:
- its time per request without the profiler, over BENCH_HTTP_PROFILE_SECONDS (5) of calls;
- the same calls under pyinstrument (interval 1 ms), the call tree cut into parts
  (authentication, permissions, throttling, filtering, count, page query, serialization,
  rendering, middleware, ...), each split into the time spent in psycopg (SQL sent and rows
  read), in Redis, checking a connection out of the pool, and in Python; the parts' shares of
  the profiled time, applied to the unprofiled time per request, give the ms;
- its SQL queries, each timed alone on a psycopg connection (median of up to 30), and the plan
  (EXPLAIN ANALYZE) of every one that takes 5 ms or more.
The export is profiled over one whole download (per row), and the sales scenario of `bench
http` (`BENCH_HTTP_ONLY=sales`: one-line orders POSTed fulfilled, products in turn) per order.
The full pyinstrument trees are written to BENCH_HTTP_PROFILE_DIR (default
/tmp/bench_http_profiles).
"""

import functools
import itertools
import json
import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.http import (
    EXPORT_PATH,
    INNER,
    ROWS,
    Options,
    capture_queries,
    describe_query,
    ensure_seeded,
    export_select,
    migrate,
    per_query_ms,
    repeatable,
    run_child,
    say,
    stock_for_sales,
    stop_on_signals,
    wsgi_request,
)

INTERVAL = 0.001
EXPLAIN_MS = 5.0  # queries at least this slow get their plan printed


@dataclass(frozen=True)
class Part:
    """A part of a request: frames named `function` (any when None) in a file whose path
    contains `path` start it; `final` parts are not cut further into other parts."""

    name: str
    function: str | tuple[str, ...] | None
    path: str
    final: bool = True

    def matches(self, frame) -> bool:
        function = frame.function or ""
        if self.function is not None:
            names = self.function if isinstance(self.function, tuple) else (self.function,)
            if function not in names:
                return False
        return self.path in (frame.file_path or "")


DRF_SERIALIZERS = "rest_framework/serializers.py"
DJANGO_COMPILER = "django/db/models/sql/compiler.py"
QUERYSET = "QuerySet evaluation (SQL, rows to objects)"
# Checked in this order at every frame, outermost first: a frame inside a final part stays in
# that part. What no part claims is counted in the part around it.
PARTS = [
    Part("middleware + Django handler", "__call__", "django/core/handlers/wsgi.py", final=False),
    Part("connection checkout / return (pool)", "close_old_connections", "django/db/__init__.py"),
    Part("URL resolving", "resolve_request", "django/core/handlers/base.py"),
    Part("view: DRF dispatch, other", "dispatch", "rest_framework/views.py", final=False),
    Part("authentication: JWT decode + verify", "get_validated_token", "rest_framework_simplejwt/"),
    Part("authentication: user load", "get_user", "rest_framework_simplejwt/authentication.py"),
    Part("authentication: other", "perform_authentication", "rest_framework/views.py", False),
    Part("permissions (has_perm)", "check_permissions", "/", final=False),
    Part("permissions: view.get_queryset() for its model", "_queryset", "rest_framework/perm"),
    Part("permissions: has_perms (user and group permission queries)", "has_perms", "django/"),
    Part("throttling", "check_throttles", "rest_framework/views.py"),
    Part("cost permission (serializer context)", "get_serializer_context", "/"),
    Part("django-filter (FilterSet, form, validation)", "filter_queryset", "django_filters/"),
    Part("search + ordering filters", "filter_queryset", "rest_framework/filters.py"),
    Part("search + ordering filters", "filter_queryset", "core/api.py"),
    Part("search + ordering filters", "get_ordering", "core/api.py"),
    Part("count: paginator (cache get/set)", "count", "core/api.py", final=False),
    Part("count: SQL text for the cache key", "sql_with_params", "django/db/models/sql/query"),
    Part("count: COUNT queries", "count", "django/db/models/query.py"),
    Part("queryset building (annotations)", "get_queryset", "/"),
    Part("page query (paginator)", "paginate_queryset", "rest_framework/", final=False),
    Part("dashboard queries (reports.selectors)", "dashboard", "reports/selectors.py"),
    Part("get_object (user with roles)", "get_object", "users/views.py"),
    Part("serialization (DRF serializers)", ("data", "to_representation"), DRF_SERIALIZERS, False),
    Part("paginated response", "get_paginated_response", "rest_framework/"),
    Part("rendering (JSONRenderer)", "rendered_content", "rest_framework/response.py"),
    Part("streamed response (Django: lines to bytes)", None, "django/http/response.py", False),
    Part("export: CSV lines (csv_cell, decimal_text, writer)", "csv_lines", "core/exports", False),
    Part(QUERYSET, "__iter__", "django/db/models/query.py"),
    Part(QUERYSET, ("results_iter", "cursor_iter", "apply_converters"), DJANGO_COMPILER),
]  # fmt: skip
# Where the time of a part goes: frames in these libraries (outermost), else Python.
RESOURCES = [
    ("SQL", "/psycopg/"),
    ("Redis", "/redis/"),
    ("pool", "/psycopg_pool/"),
]


def _resource(frame) -> str | None:
    path = frame.file_path or ""
    for name, marker in RESOURCES:
        if marker in path:
            return name
    if frame.function == "ensure_connection" and "django/db/backends/base" in path:
        return "pool"
    return None


def split(root) -> dict[str, dict[str, float]]:
    """Seconds per part and resource (SQL, Redis, pool, Python) over the profile's tree."""
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def walk(frame, part: str, final: bool) -> None:
        if not final:
            for candidate in PARTS:
                if candidate.matches(frame):
                    part, final = candidate.name, candidate.final
                    break
        resource = _resource(frame)
        if resource is not None:
            totals[part][resource] += frame.time
            return
        if not frame.children:
            totals[part]["Python"] += frame.time
            return
        for child in frame.children:
            walk(child, part, final)

    walk(root, "outside the WSGI application (harness loop)", False)
    return totals


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def _call(application, path: str, token: str, *, body: bytes = b"") -> None:
    """GET `path`, or POST `body` (JSON) to it; a 200 (201 for a POST) or the run stops."""
    method, expected = ("POST", 201) if body else ("GET", 200)
    status, answer = wsgi_request(application, path, token=token, method=method, body=body)
    if status != expected:
        raise SystemExit(f"{method} {path} answered {status}: {answer[:300]!r}")


def profile_request(
    application, label: str, path: str, token: str, seconds: float, out: Path, *, bodies=None
):
    """Time, then profile, calls of one request (a POST of each of `bodies` in turn, if given);
    print its parts."""
    from pyinstrument import Profiler

    bodies = itertools.cycle(bodies or [b""])
    call = functools.partial(_call, application, path, token)
    for _ in range(10):
        call(body=next(bodies))
    calls = 0
    started, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        call(body=next(bodies))
        calls += 1
    plain_ms = (time.perf_counter() - started) / calls * 1000
    cpu_ms = (time.process_time() - cpu) / calls * 1000
    profiler = Profiler(interval=INTERVAL, use_timing_thread=True)  # cheaper clock reads
    profiler.start()
    for _ in range(calls):
        call(body=next(bodies))
    profiler.stop()
    session = profiler.last_session
    profiled_ms = session.duration / calls * 1000
    (out / f"{_slug(label)}.txt").write_text(
        profiler.output_text(unicode=False, color=False, show_all=False)
    )
    report(label, split(session.root_frame()), session.duration, calls, plain_ms, profiled_ms)
    say(f"this process's CPU: {cpu_ms:.2f} ms per request (the rest is waiting: SQL, Redis)")
    return plain_ms


def report(label, totals, duration, calls, plain_ms, profiled_ms, unit="request"):
    """The parts of one request, largest first: ms (scaled to the unprofiled time), %, and
    where each part's time goes."""
    say(
        f"\n### {label}\n{plain_ms:.2f} ms per {unit} in-process without the profiler "
        f"({1000 / plain_ms:,.0f}/s on one core), {profiled_ms:.2f} ms profiled, {calls} calls"
    )
    say("| part | ms | % | SQL | Redis | pool | Python |")
    say("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = sorted(totals.items(), key=lambda item: -sum(item[1].values()))
    for part, resources in rows:
        seconds = sum(resources.values())
        share = seconds / duration
        if share < 0.005:
            continue
        cells = [
            f"{resources.get(name, 0) / duration * plain_ms:.2f}" if resources.get(name) else ""
            for name in ("SQL", "Redis", "pool", "Python")
        ]
        say(f"| {part} | {share * plain_ms:.2f} | {share:.0%} | " + " | ".join(cells) + " |")
    by_resource = defaultdict(float)
    for resources in totals.values():
        for name, seconds in resources.items():
            by_resource[name] += seconds
    say(
        "in all: "
        + ", ".join(
            f"{name} {by_resource[name] / duration:.0%}"
            for name in ("SQL", "Redis", "pool", "Python")
        )
    )


def explain(options: Options, sql: str) -> str:
    """The query's plan as PostgreSQL ran it (EXPLAIN ANALYZE, BUFFERS)."""
    import psycopg

    with psycopg.connect(options.database_url, autocommit=True, options="-c jit=off") as db:
        rows = db.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").fetchall()
    return "\n".join(row[0] for row in rows)


def list_queries(options: Options, queries: list[dict], *, repeat: int = 30) -> None:
    """Each query of a request, timed alone (median of `repeat` runs), with a short name."""
    selects = repeatable(queries)
    say(f"{len(queries)} queries:")
    timed = per_query_ms(options, selects, repeat=repeat)
    for index, (sql, ms) in enumerate(zip(selects, timed, strict=True), 1):
        say(f"{index}. {ms:.2f} ms: {describe_query(sql)}")
    for sql, ms in zip(selects, timed, strict=True):
        if ms >= EXPLAIN_MS:
            say(f"\nEXPLAIN (ANALYZE, BUFFERS) of the {ms:.1f} ms query:\n{sql}")
            say(explain(options, sql))


def profile_export(application, token: str, out: Path) -> None:
    """One whole export download in-process: per-row cost, parts as above."""
    from pyinstrument import Profiler

    started = time.perf_counter()
    status, body = wsgi_request(application, EXPORT_PATH, token=token)
    plain = time.perf_counter() - started
    rows = body.count(b"\n") - 1
    profiler = Profiler(interval=INTERVAL * 5, use_timing_thread=True)
    profiler.start()
    wsgi_request(application, EXPORT_PATH, token=token)
    profiler.stop()
    session = profiler.last_session
    (out / "export.txt").write_text(profiler.output_text(unicode=False, color=False))
    say(
        f"\n(export: {rows:,} rows, {plain:.2f} s without the profiler: {rows / plain:,.0f} rows/s)"
    )
    report(
        f"GET {EXPORT_PATH} ({rows:,} rows; ms per 1,000 rows)",
        split(session.root_frame()),
        session.duration,
        1,
        plain / rows * 1000 * 1000,
        session.duration / rows * 1000 * 1000,
        unit="1,000 rows",
    )


def profile_sales(application, seeded, token: str, seconds: float, out: Path) -> None:
    """POST /api/sales-orders/ as `bench http`'s sales scenario does (one line, fulfilled on
    creation, products in turn among its 3,000), with the tasks queued on Redis as gunicorn
    queues them (this child runs them eagerly for seeding)."""
    from config.celery import app

    ids, _ = stock_for_sales(seeded)
    bodies = [
        json.dumps({"status": "fulfilled", "items": [{"product": pk, "quantity": 1}]}).encode()
        for pk in ids
    ]
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        label = "POST /api/sales-orders/ (1 line, fulfilled)"
        profile_request(application, label, "/api/sales-orders/", token, seconds, out,
                        bodies=bodies)  # fmt: skip
    finally:
        app.conf.task_always_eager = eager


def profile(options: Options) -> None:
    """The child: seed or reuse the database, log in in-process, profile every request."""
    import django

    stop_on_signals()
    django.setup()
    from django.core.cache import cache

    migrate()
    seeded = ensure_seeded(options)
    cache.clear()
    from config.wsgi import application

    body = json.dumps({"username": seeded.username, "password": "bench-password-123"}).encode()
    status, answer = wsgi_request(application, "/api/login/", method="POST", body=body)
    if status != 200:
        raise SystemExit(f"login answered {status}: {answer[:300]!r}")
    token = json.loads(answer)["access"]
    seconds = float(os.environ.get("BENCH_HTTP_PROFILE_SECONDS", "5"))
    out = Path(os.environ.get("BENCH_HTTP_PROFILE_DIR", "/tmp/bench_http_profiles"))
    out.mkdir(parents=True, exist_ok=True)
    say(f"{seeded.products:,} products; pyinstrument trees in {out}")
    for row in ROWS:
        if options.only and options.only not in row.label:
            continue
        path = row.path.format(category=seeded.category_id, product=seeded.product_id)
        profile_request(application, row.label, path, token, seconds, out)
        list_queries(options, capture_queries(application, path, token))
    if not options.only or options.only in "sales POST /api/sales-orders/":
        profile_sales(application, seeded, token, seconds, out)
    if not options.only or options.only in "export " + EXPORT_PATH:
        profile_export(application, token, out)
        queries = capture_queries(application, EXPORT_PATH, token, stream=True)
        # The rows come through a server-side cursor (DECLARE ... FOR SELECT): time the SELECT.
        selects = [q for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
        list_queries(options, [*selects, {"sql": export_select(queries)}], repeat=3)


def main() -> None:
    options = Options.from_env()
    if os.environ.get(INNER) == "1":
        profile(options)
        return
    code = run_child("http_profile", options)
    if code:
        raise SystemExit(code)
