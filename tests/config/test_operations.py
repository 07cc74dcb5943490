"""Deploys that cannot be left insecure or half set up, and that fail safely (API.md,
"Documentation and operations")."""

import io
import logging
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from tests.factories import ProductFactory

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k8#Jq2!vLz0@pW5rT9^mN3&bX7*cY1%dF6(gH4)sA8-eU2+iO0=lQ"
MB = 1024 * 1024


def run(args, **env):
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    base.update(env)
    return subprocess.run(args, cwd=ROOT, env=base, capture_output=True, text=True, timeout=120)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


# --- The secret key ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("change-me", "placeholder"),
        ("secret", "placeholder"),
        ("django-insecure-" + "a1b2c3d4e5" * 6, "placeholder"),
        ("short-but-random-7f3a9c", "shorter than 50"),
        ("x" * 64, "fewer than 5 different characters"),
    ],
)
def test_the_server_refuses_a_weak_or_placeholder_key_with_debug_off(key, reason):
    result = run([sys.executable, "-c", "import config.wsgi"], SECRET_KEY=key, DEBUG="false")

    assert result.returncode != 0
    assert reason in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr


def test_the_workers_and_manage_py_refuse_it_too():
    worker = run(
        [sys.executable, "-c", "from config.celery import _refuse_insecure_secret_key as r; r()"],
        SECRET_KEY="change-me",
        DEBUG="false",
    )
    check = run([sys.executable, "manage.py", "check"], SECRET_KEY="change-me", DEBUG="false")

    assert worker.returncode != 0 and "placeholder" in worker.stderr
    assert check.returncode != 0 and "stockroom.E001" in check.stderr


def test_make_check_deploy_fails_with_the_placeholder_key():
    result = run(["make", "--no-print-directory", "check-deploy"], SECRET_KEY="change-me")

    assert result.returncode != 0
    assert "placeholder" in result.stdout + result.stderr


def test_a_real_key_starts_and_help_works_with_nothing_set():
    started = run(
        [sys.executable, "-c", "import config.wsgi; print('started')"],
        SECRET_KEY=GOOD_KEY,
        DEBUG="false",
    )
    helped = run([sys.executable, "manage.py", "help"])

    assert started.stdout.strip() == "started", started.stderr
    assert helped.returncode == 0, helped.stderr
    assert "migrate" in helped.stdout


def test_env_example_holds_no_usable_key_and_compose_requires_one():
    example = (ROOT / ".env.example").read_text()
    compose = (ROOT / "docker-compose.yml").read_text()

    assert "\nSECRET_KEY=\n" in example
    assert "${SECRET_KEY:?" in compose
    assert "forwarded-allow-ips='*'" not in compose and "FORWARDED_ALLOW_IPS" in compose
    assert "createcachetable" not in compose


# --- `migrate` and nothing else ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_migrate_makes_the_database_cache_table(settings):
    table = settings.DATABASE_CACHE_TABLE
    executor = MigrationExecutor(connection)
    executor.migrate([("core", None)])  # as before the migration
    assert table not in connection.introspection.table_names()

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert table in connection.introspection.table_names()
    settings.CACHES = {"default": {"BACKEND": "core.cache.DatabaseCache", "LOCATION": table}}
    caches["default"].set("k", 1)
    assert caches["default"].get("k") == 1


# --- Health -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_health_is_degraded_not_down_when_redis_is_unreachable(api_client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }

    response = api_client.get("/api/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "unavailable"}


@pytest.mark.django_db
def test_health_is_degraded_when_the_broker_is_unreachable(api_client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"

    assert api_client.get("/api/health/").json()["status"] == "degraded"


@pytest.mark.django_db
def test_health_is_degraded_when_the_database_cache_table_is_missing(api_client):
    missing = {"BACKEND": "core.cache.DatabaseCache", "LOCATION": "no_such_cache_table"}
    with override_settings(CACHES={"default": missing}):
        response = api_client.get("/api/health/")

    assert (response.status_code, response.json()["cache"]) == (200, "missing")


# --- Redis down: the API keeps answering ----------------------------------------------------------


@pytest.mark.django_db
def test_with_redis_unreachable_requests_are_answered_and_throttled_in_memory(
    api_client, admin_client, manager_user, settings, caplog
):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }
    with caplog.at_level(logging.WARNING, logger="core.cache"):
        assert admin_client.get("/api/products/").status_code == 200  # user throttle
        assert api_client.get("/api/schema/").status_code == 200  # anonymous throttle
        statuses = [
            api_client.post("/api/login/", {"username": "mike", "password": "wrong"}).status_code
            for _ in range(6)
        ]
    assert statuses == [401] * 5 + [429]  # the limit holds, in this process
    assert "Redis cache unreachable" in caplog.text


# --- Every answer under /api/ is JSON -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api/products/1.5/", "/api/no-such-thing/", "/api/products/x/"])
def test_unknown_urls_under_api_are_json_404s(admin_client, settings, path, debug):
    settings.DEBUG = debug

    response = admin_client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


@pytest.mark.django_db
def test_an_unexpected_error_under_api_is_a_json_500(admin_client, monkeypatch):
    from inventory.views import ProductViewSet

    def broken(self, request, *args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(ProductViewSet, "list", broken)
    admin_client.raise_request_exception = False

    response = admin_client.get("/api/products/")

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}


@pytest.mark.django_db
def test_an_unreachable_database_is_a_json_503_for_api_views(admin_client, monkeypatch):
    from inventory.views import ProductViewSet

    def database_down(self, request, *args, **kwargs):
        raise OperationalError("connection to server failed")

    monkeypatch.setattr(ProductViewSet, "list", database_down)

    response = admin_client.get("/api/products/")

    assert response.status_code == 503
    assert response.json() == {"detail": "The database is unavailable; try again in a few seconds."}
    assert response["Retry-After"] == "5"


@pytest.mark.django_db
def test_an_unreachable_database_is_a_503_in_the_admin_too(client, monkeypatch):
    from django.contrib.auth.views import LoginView

    def database_down(self, request, *args, **kwargs):
        raise OperationalError("connection to server failed")

    monkeypatch.setattr(LoginView, "get", database_down)

    response = client.get("/admin/login/")

    assert response.status_code == 503


# --- Request bodies -------------------------------------------------------------------------------


def chunked_post(client, path, body: bytes):
    """What a client sends with `Transfer-Encoding: chunked`: no Content-Length, and a body
    that the server reads until it ends (as gunicorn's wsgi.input does)."""
    return client.generic(
        "POST",
        path,
        body,
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body)},
    )


@pytest.mark.django_db
def test_a_chunked_body_over_the_limit_is_413(api_client):
    body = b'{"username": "big", "pad": "' + b"x" * (3 * MB) + b'"}'

    response = chunked_post(api_client, "/api/register/", body)

    assert response.status_code == 413
    assert "detail" in response.json()


@pytest.mark.django_db
def test_a_chunked_body_under_the_limit_is_read_not_taken_for_empty(api_client):
    response = chunked_post(
        api_client,
        "/api/register/",
        b'{"username": "chunky", "email": "chunky@example.com", '
        b'"password": "a-long-passphrase-42"}',
    )

    assert response.status_code == 201, response.content
    assert response.json()["username"] == "chunky"


# --- Orders of at most 1,000 lines, written in a few statements -----------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/sales-orders/", "/api/purchase-orders/"])
def test_an_order_of_more_than_1000_lines_is_a_400(admin_client, organization, path):
    from tests.factories import SupplierFactory

    product = ProductFactory(organization=organization, cost_price="1.00")
    supplier = SupplierFactory(organization=organization)
    items = [{"product": product.pk, "quantity": 1, "unit_cost": "1.00"}] * 1001

    response = admin_client.post(path, {"supplier": supplier.pk, "items": items})

    assert response.status_code == 400
    assert "1000" in str(response.json()["items"])


@pytest.mark.django_db
def test_a_1000_line_order_is_created_and_fulfilled_in_a_constant_number_of_queries(
    admin_client, organization, stocked, django_assert_max_num_queries
):
    products = [stocked(5, organization=organization, price="1.00") for _ in range(1000)]
    items = [{"product": product.pk, "quantity": 2} for product in products]

    # A few dozen statements, not thousands: bulk writes of products, levels, movements and the
    # lines' costs (SQLite splits them into batches of at most 999 values), one lock of every
    # product, one read of their levels, one read of the products for the lines.
    with django_assert_max_num_queries(66):
        response = admin_client.post("/api/sales-orders/", {"items": items, "status": "fulfilled"})

    assert response.status_code == 201, response.content
    assert response.json()["total_amount"] == "2000.00"
    assert response.json()["total_cost"] == "0.00"  # no costs given: valued at 0
    assert {p.quantity for p in type(products[0]).objects.filter(organization=organization)} == {3}


@override_settings(DEBUG=False)
def test_settings_bound_every_wait_on_a_service():
    from django.conf import settings

    assert settings.EMAIL_TIMEOUT <= 10
    assert settings.CELERY_BROKER_CONNECTION_TIMEOUT <= 1
    assert settings.CELERY_TASK_PUBLISH_RETRY is False
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["max_retries"] == 0  # no 2 s reconnect loop
    if connection.vendor == "postgresql":
        options = settings.DATABASES["default"]["OPTIONS"]
        assert options["connect_timeout"] <= 3
        if "pool" in options:
            assert options["pool"]["timeout"] <= 3
            assert connection.pool._check.__name__ == "check_pooled_connection"
            assert type(connection.pool).__name__ == "BreakingConnectionPool"


@pytest.mark.skipif(
    not shutil.which("docker-compose") and not os.environ.get("CI"),
    reason="needs docker-compose (Debian's package; .ci/run installs it)",
)
def test_the_compose_file_is_valid_and_stops_without_a_key(tmp_path):
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    example = (ROOT / ".env.example").read_text()
    (tmp_path / ".env").write_text(example)
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}

    refused = subprocess.run(
        ["docker-compose", "config"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    (tmp_path / ".env").write_text(example.replace("\nSECRET_KEY=\n", f"\nSECRET_KEY={GOOD_KEY}\n"))
    accepted = subprocess.run(
        ["docker-compose", "config"], cwd=tmp_path, env=env, capture_output=True, text=True
    )

    assert refused.returncode != 0 and "set SECRET_KEY" in refused.stderr
    assert accepted.returncode == 0, accepted.stderr
    assert "FORWARDED_ALLOW_IPS: 172.30.0.0/24" in accepted.stdout
