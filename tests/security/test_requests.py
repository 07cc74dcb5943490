"""Hostile or broken input gets a clear 4xx and changes nothing; no input produces a 500."""

import pytest
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
