"""Configuration, health, schema and docs ("Documentation and operations" in API.md)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env):
    """Run `code` in a fresh interpreter with this environment, less SECRET_KEY and DEBUG, plus
    `env` (a None value removes a variable)."""
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    base.update(env)
    base = {k: v for k, v in base.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60
    )


SETUP = (
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); "
    "django.setup(); "
)


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = run_python("import config.wsgi; print('started')", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr  # how to make one
    assert "started" not in result.stdout


def test_debug_false_string_means_off():
    result = run_python(
        SETUP + "from django.conf import settings; print(settings.DEBUG)",
        DEBUG="False",
        SECRET_KEY="x" * 60,
    )
    assert result.stdout.strip() == "False"


def test_an_unreadable_boolean_is_a_configuration_error():
    result = run_python(SETUP, DEBUG="maybe", SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_development_mode_runs_with_nothing_set():
    result = run_python(
        SETUP + "from django.conf import settings; print(settings.DEBUG)", DEBUG="1"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_production_settings_pass_the_deployment_checklist():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECURE_SSL_REDIRECT")},
            "DEBUG": "false",
            "SECRET_KEY": "k8#Jq2!vLz0@pW5rT9^mN3&bX7*cY1%dF6(gH4)sA8-eU2+iO0=lQ",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_embedded_default_is_sqlite_eager_celery_and_console_email():
    code = SETUP + (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.EMAIL_BACKEND, "
        "s.CACHES['default']['BACKEND'])"
    )
    result = run_python(code, DEBUG="true", DATABASE_URL="", REDIS_URL="", EMAIL_HOST="")
    engine, eager, email, cache = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert eager == "True"
    assert email == "django.core.mail.backends.console.EmailBackend"
    assert cache == "core.cache.DatabaseCache"


def test_postgres_and_redis_from_the_environment():
    code = SETUP + (
        "from django.conf import settings as s; d = s.DATABASES['default']; "
        "print(d['ENGINE'], d['NAME'], bool(d['OPTIONS'].get('pool')), d['CONN_MAX_AGE'], "
        "s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'])"
    )
    result = run_python(
        code,
        DEBUG="true",
        DATABASE_URL="postgres://shop:pw@db.internal:5432/stockroom",
        REDIS_URL="redis://cache.internal:6379/0",
        DATABASE_PGBOUNCER=None,  # as `make test-pgbouncer` sets it: our pool is the default
    )
    assert result.stdout.split() == [
        "core.postgresql",
        "stockroom",
        "True",
        "0",
        "redis://cache.internal:6379/0",
        "False",
        "core.cache.ResilientRedisCache",
    ]


def test_email_backend_follows_the_environment():
    code = SETUP + "from django.conf import settings as s; print(s.EMAIL_BACKEND)"
    smtp = run_python(code, DEBUG="true", EMAIL_HOST="smtp.example.com", EMAIL_BACKEND="")
    explicit = run_python(
        code,
        DEBUG="true",
        EMAIL_HOST="smtp.example.com",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    assert smtp.stdout.strip() == "django.core.mail.backends.smtp.EmailBackend"
    assert explicit.stdout.strip() == "django.core.mail.backends.locmem.EmailBackend"


@pytest.mark.django_db
def test_health_reports_the_database(api_client):
    response = api_client.get("/api/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_health_is_503_when_the_database_is_unreachable(api_client, monkeypatch):
    from config import views

    class Unreachable:
        pool = None

        def cursor(self):
            raise OperationalError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(views, "connection", Unreachable())
        response = api_client.get("/api/health/")

    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


@pytest.mark.django_db
def test_schema_is_public_openapi_3_with_split_request_components(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/login/" in schema["paths"]
    assert "/api/users/{id}/" in schema["paths"]
    components = schema["components"]["schemas"]
    assert "UserAdminRequest" in components  # request bodies are separate components
    assert "id" not in components["UserAdminRequest"]["properties"]
    assert "password" not in components["UserAdmin"]["properties"]


@pytest.mark.django_db
def test_schema_validates_as_openapi_3(api_client):
    from drf_spectacular.validation import validate_schema

    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    validate_schema(response.json())


@pytest.mark.django_db
def test_docs_are_public_and_served_from_our_own_static_files(api_client):
    page = api_client.get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    asset = api_client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200


@pytest.mark.django_db
def test_admin_lists_users_and_organizations(client, organization):
    from tests.factories import UserFactory

    staff = UserFactory(organization=organization, is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert client.get("/admin/users/user/?q=user").status_code == 200
    assert client.get("/admin/users/organization/?q=Corner").status_code == 200
    assert client.get(f"/admin/users/user/{staff.pk}/change/").status_code == 200


@pytest.mark.django_db
def test_schema_describes_responses_and_inputs_as_the_api_behaves(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    product = components["Product"]

    # Always present in responses, so required there; optional on input.
    assert {"sku", "category", "cost_price", "quantity"} <= set(product["required"])
    assert "sku" not in components["ProductRequest"].get("required", [])
    # Nullable where the API answers null.
    assert product["properties"]["category_name"]["nullable"] is True
    assert components["StockMovement"]["properties"]["performed_by"]["nullable"] is True
    # Money is never negative; ids in list filters are positive integers.
    assert not product["properties"]["price"]["pattern"].startswith("^-")
    params = schema["paths"]["/api/products/"]["get"]["parameters"]
    category = next(p for p in params if p["name"] == "category")
    assert category["schema"] == {"type": "integer", "minimum": 1}


@pytest.mark.django_db
def test_admin_cannot_move_a_user_to_another_organization(client, admin_user, other_organization):
    from tests.factories import UserFactory

    staff = UserFactory(organization=None, is_staff=True, is_superuser=True)
    client.force_login(staff)
    page = client.get(f"/admin/users/user/{admin_user.pk}/change/")
    assert page.status_code == 200
    assert 'name="organization"' not in page.content.decode()


def _schema(api_client):
    return api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


@pytest.mark.django_db
def test_every_money_cost_and_date_field_has_a_valid_example(api_client):
    import datetime
    import re

    schema = _schema(api_client)
    checked = 0
    for component in schema["components"]["schemas"].values():
        for prop in (component.get("properties") or {}).values():
            if prop.get("format") == "decimal":
                assert re.fullmatch(prop.get("pattern", r"\d+\.\d\d"), prop["example"]), prop
            elif prop.get("format") == "date":
                datetime.date.fromisoformat(prop["example"])
            elif prop.get("format") == "date-time":
                datetime.datetime.fromisoformat(prop["example"])
            else:
                continue
            checked += 1
    assert checked >= 40
    price = schema["components"]["schemas"]["Product"]["properties"]["price"]
    assert price["example"] == "19.90"


@pytest.mark.django_db
def test_every_operation_documents_its_error_responses(api_client):
    schema = _schema(api_client)
    operations = schema["paths"]["/api/products/{id}/"]
    assert {"401", "403", "404", "409", "429"} <= set(operations["delete"]["responses"])
    assert {"400", "401", "403", "404", "409", "413", "429"} <= set(
        operations["patch"]["responses"]
    )
    assert {"400", "401", "429"} <= set(schema["paths"]["/api/login/"]["post"]["responses"])
    assert "403" not in schema["paths"]["/api/register/"]["post"]["responses"]
    error = operations["get"]["responses"]["404"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/ErrorDetail"}
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if path not in ("/api/schema/", "/api/docs/", "/api/health/"):
                assert "429" in operation["responses"], (method, path)


@pytest.mark.django_db
def test_the_docs_page_says_how_to_authenticate(api_client):
    description = _schema(api_client)["info"]["description"]
    assert "Authorize" in description
    assert "Bearer <access>" in description and "Token <token>" in description


@pytest.mark.django_db
def test_cors_allows_only_the_configured_origins_and_preflights_need_no_credentials(
    api_client, settings
):
    settings.CORS_ALLOWED_ORIGINS = ["https://pos.example.com"]
    preflight = api_client.options(
        "/api/products/",
        HTTP_ORIGIN="https://pos.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    stranger = api_client.get("/api/health/", HTTP_ORIGIN="https://evil.example.com")

    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "https://pos.example.com"
    assert "authorization" in preflight["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in stranger


# The settings as they load with nothing set but what is named (no .env file either).
WITHOUT_DOTENV = "import dotenv; dotenv.load_dotenv = lambda *args, **kwargs: False; "


def test_no_origin_is_allowed_by_default():
    """The default itself, whatever this run's environment or a .env file says (the test used
    to pass whenever the variable was set, reading the loaded value)."""
    result = run_python(
        WITHOUT_DOTENV + SETUP + "from django.conf import settings; "
        "print(repr(settings.CORS_ALLOWED_ORIGINS))",
        SECRET_KEY="x" * 60,
        CORS_ALLOWED_ORIGINS=None,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_allowed_origins_are_read_from_the_environment():
    result = run_python(
        WITHOUT_DOTENV + SETUP + "from django.conf import settings; "
        "print(repr(settings.CORS_ALLOWED_ORIGINS))",
        SECRET_KEY="x" * 60,
        CORS_ALLOWED_ORIGINS=" https://pos.example.com, https://shop.example.com ",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['https://pos.example.com', 'https://shop.example.com']"


def test_pgbouncer_turns_off_server_side_binding_prepared_statements_and_our_pool():
    """PgBouncer in transaction mode keeps no prepared statement, cursor or session setting
    from one transaction to the next: none of them is used, and PgBouncer pools."""
    code = SETUP + (
        "from django.conf import settings as s; d = s.DATABASES['default']; o = d['OPTIONS']; "
        "print(o['server_side_binding'], o['prepare_threshold'], 'pool' in o, 'options' in o, "
        "d['DISABLE_SERVER_SIDE_CURSORS'], d['CONN_MAX_AGE'] > 0)"
    )
    url = "postgres://shop:pw@bouncer.internal:6432/stockroom"
    bounced = run_python(code, DEBUG="true", DATABASE_URL=url, DATABASE_PGBOUNCER="true")
    assert bounced.stdout.split() == ["False", "None", "False", "False", "True", "True"]
    plain = SETUP + (
        "from django.conf import settings as s; o = s.DATABASES['default']['OPTIONS']; "
        "print(o['server_side_binding'], 'pool' in o)"
    )
    direct = run_python(plain, DEBUG="true", DATABASE_URL=url, DATABASE_PGBOUNCER=None)
    assert direct.stdout.split() == ["True", "True"]


def test_a_replica_url_adds_the_replica_alias_and_the_router():
    code = SETUP + (
        "from django.conf import settings as s; r = s.DATABASES.get('replica'); "
        "print(s.REPLICA_DATABASE, r and r['HOST'], r and r['TEST']['MIRROR'], "
        "r and r['OPTIONS']['connect_timeout'], s.REPLICA_STICKY_SECONDS, "
        "s.REPLICA_MAX_LAG_SECONDS, s.DATABASE_ROUTERS)"
    )
    with_replica = run_python(
        code,
        DEBUG="true",
        DATABASE_URL="postgres://shop:pw@primary.internal:5432/stockroom",
        DATABASE_REPLICA_URL="postgres://shop:pw@replica.internal:5432/stockroom",
        REPLICA_STICKY_SECONDS="4",
    )
    assert with_replica.stdout.split() == [
        "replica", "replica.internal", "default", "1", "4", "30", "['core.db.ReplicaRouter']"
    ]  # fmt: skip
    without = run_python(code, DEBUG="true", DATABASE_URL=None, DATABASE_REPLICA_URL=None)
    assert without.stdout.split()[:3] == ["None", "None", "None"]
