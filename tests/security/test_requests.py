"""Hostile or broken input gets a clear 4xx and changes nothing; no input produces a 500."""

import re

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from users.models import Organization, User

MB = 1024 * 1024


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"username": "x",}',
        b"\xff\xfe\x00garbage",
        b'{"username": NaN, "email": "a@b.c", "password": "x"}',
        b'{"username": Infinity}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50 + b"1" + b"}" * 50,
    ],
    ids=["truncated", "trailing-comma", "not-utf8", "nan", "infinity", "deep", "nested-50"],
)
def test_malformed_or_absurdly_nested_json_is_400(api_client, body):
    response = api_client.post("/api/register/", body, content_type="application/json")

    assert response.status_code == 400
    assert "detail" in response.json()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_a_body_over_two_and_a_half_megabytes_is_413_and_nothing_is_stored(api_client):
    padding = "x" * (3 * MB)
    body = (
        '{"username": "big", "email": "big@example.com", "password": "a-long-passphrase-1", '
        f'"organization": "{padding}"}}'
    )

    response = api_client.post("/api/register/", body, content_type="application/json")

    assert response.status_code == 413
    assert "detail" in response.json()
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_a_body_just_under_the_limit_is_parsed(api_client):
    body = '{"username": "ok", "email": "not-an-email", "password": "x", "pad": "%s"}' % (
        "y" * (2 * MB)
    )
    response = api_client.post("/api/register/", body, content_type="application/json")
    assert response.status_code == 400
    assert "email" in response.json()


@pytest.mark.django_db
def test_a_lying_content_length_is_refused(api_client):
    response = api_client.generic(
        "POST", "/api/register/", b"{}", content_type="application/json", CONTENT_LENGTH="nan"
    )
    assert response.status_code == 400


@pytest.mark.django_db
def test_form_encoded_and_unsupported_media_types_do_not_500(api_client):
    form = api_client.post("/api/login/", {"username": "a", "password": "b"}, format="multipart")
    assert form.status_code == 401
    xml = api_client.post("/api/login/", b"<a/>", content_type="application/xml")
    assert xml.status_code == 415


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/health/", "/api/users/me/", "/api/nowhere/", "/api/login/", "/admin/login/"]
)
def test_every_response_carries_the_security_headers(api_client, path):
    response = api_client.get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_refused_bodies_carry_the_security_headers_too(api_client):
    response = api_client.post("/api/register/", b"x" * (3 * MB), content_type="application/json")
    assert response.status_code == 413
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


@pytest.fixture
def tight_rates(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": "4/minute"}
    )


@pytest.mark.django_db
def test_anonymous_requests_are_throttled_per_address(api_client, tight_rates):
    statuses = [api_client.post("/api/register/", {}, format="json").status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    other = api_client.post("/api/register/", {}, format="json", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 400


@pytest.mark.django_db
def test_authenticated_requests_are_throttled_per_user(admin_client, manager_client, tight_rates):
    statuses = [admin_client.get("/api/users/me/").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert manager_client.get("/api/users/me/").status_code == 200


@pytest.mark.django_db
def test_a_throttled_user_waits_for_the_end_of_the_window(admin_client, tight_rates, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr("core.cache.clock", lambda: now[0])
    assert [admin_client.get("/api/users/me/").status_code for _ in range(4)] == [200] * 4

    refused = admin_client.get("/api/users/me/")
    now[0] += 30
    later = admin_client.get("/api/users/me/")
    now[0] += 30.5  # the window opened by the first request is over
    again = admin_client.get("/api/users/me/")

    assert (refused.status_code, refused["Retry-After"]) == (429, "60")
    assert (later.status_code, later["Retry-After"]) == (429, "30")
    assert again.status_code == 200


def test_throttle_rates_come_from_the_environment(monkeypatch):
    import importlib

    import config.settings as settings_module

    monkeypatch.setenv("THROTTLE_ANON", "7/hour")
    monkeypatch.setenv("THROTTLE_USER", "9/second")
    try:
        reloaded = importlib.reload(settings_module)
        rates = reloaded.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        assert rates == {"anon": "7/hour", "user": "9/second"}
    finally:
        monkeypatch.undo()
        importlib.reload(settings_module)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b'{"username": "\\ud800", "password": "x"}',
        b'{"username": "nul\\u0000", "password": "x"}',
        b'{"username": "a", "password": "b", "\\udfff": 1}',
        b'{"username": "a", "password": "b", "extra": {"k\\u0000": "v"}}',
    ],
    ids=["lone-surrogate", "nul", "surrogate-key", "nul-in-nested-key"],
)
@pytest.mark.parametrize("path", ["/api/login/", "/api/token/", "/api/register/"])
def test_text_no_database_or_response_can_carry_is_400(api_client, path, body):
    response = api_client.post(path, body, content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


@pytest.mark.django_db
def test_a_lone_surrogate_for_a_choice_is_400_not_500(admin_client):
    body = (
        b'{"username": "x1", "email": "x1@example.com", "password": "pw-long-enough-1", '
        b'"role": "\\ud800"}'
    )
    response = admin_client.post("/api/users/", body, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_a_forged_forwarded_for_header_does_not_reset_the_login_count(api_client, manager_user):
    for n in range(5):
        api_client.post(
            "/api/login/",
            {"username": "mike", "password": "wrong"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"9.9.9.{n}",
        )
    response = api_client.post(
        "/api/login/",
        {"username": "mike", "password": "wrong"},
        format="json",
        HTTP_X_FORWARDED_FOR="8.8.8.8",
    )
    assert response.status_code == 429


@pytest.mark.django_db
def test_a_refused_search_term_is_keyed_by_the_parameter(admin_client):
    response = admin_client.get("/api/users/", {"search": "a\x00b"})
    assert response.status_code == 400
    assert response.json() == {"search": ["Null characters are not allowed."]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/api/users/me", "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"],
    ids=["append-slash-redirect", "static-file"],
)
def test_redirects_and_static_files_carry_the_security_headers(api_client, path):
    response = api_client.get(path)
    assert response.status_code in (200, 301)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_an_export_error_asked_for_as_csv_is_labelled_json(admin_client):
    response = admin_client.get("/api/products/export/", {"min_price": "x"}, HTTP_ACCEPT="text/csv")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "min_price" in response.json()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/api/register/", "/api/users/"])
def test_concurrent_signups_for_one_username_give_one_201_and_400s(path, organization):
    import threading

    from django.db import connection

    from tests.factories import UserFactory
    from tests.support.api import client_for
    from users.models import Role

    admin = UserFactory(organization=organization, role=Role.ADMIN)
    barrier = threading.Barrier(8)
    statuses = []

    def sign_up():
        try:
            client = client_for(admin) if path == "/api/users/" else APIClient()
            barrier.wait(timeout=10)
            response = client.post(
                path,
                {
                    "username": "raceuser",
                    "email": "race@example.com",
                    "password": "a-long-race-passphrase",
                    "role": "sales",
                },
                format="json",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses) == [201] + [400] * 7
    assert User.objects.filter(username="raceuser").count() == 1


def test_an_id_that_is_no_number_is_never_a_500(admin_client):
    """Every documented path with an id, every method it offers, with `null,null` (what a
    schemathesis run sent to `POST /api/products/{id}/restore/`, then a 500): a 4xx."""
    schema = admin_client.get("/api/schema/", {"format": "json"}).json()
    answers = {}
    for path, operations in schema["paths"].items():
        if "{" not in path:
            continue
        url = re.sub(r"\{[^}]+\}", "null,null", path)
        for method in operations.keys() & {"get", "post", "put", "patch", "delete"}:
            response = getattr(admin_client, method)(url, {}, format="json")
            answers[f"{method.upper()} {path}"] = response.status_code
    assert len(answers) > 20
    assert {call: code for call, code in answers.items() if not 400 <= code < 500} == {}
