"""A shop's people on day one: changing and resetting passwords, tokens that expire, login
throttling that a username's spelling cannot dodge (API.md, Authentication)."""

import datetime
import re

import pytest
from django.core import mail
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD
from tests.support.api import client_for
from users.models import User

NEW_PASSWORD = "a-brand-new-long-passphrase-7"
pytestmark = pytest.mark.django_db


def login(client, username, password):
    return client.post("/api/login/", {"username": username, "password": password})


def refresh_with(client, refresh):
    return client.post("/api/token/refresh/", {"refresh": refresh})


# --- Changing one's password ---------------------------------------------------------------------


def test_a_password_in_a_profile_patch_is_a_400_pointing_to_the_password_endpoint(sales_user):
    client = client_for(sales_user)

    response = client.patch("/api/users/me/", {"password": NEW_PASSWORD, "first_name": "Sam"})

    assert response.status_code == 400
    assert "/api/users/me/password/" in response.json()["password"][0]
    sales_user.refresh_from_db()
    assert sales_user.check_password(PASSWORD) and sales_user.first_name == ""


def test_changing_ones_password_ends_every_session_of_the_old_one(api_client, sales_user):
    session = login(api_client, "sam", PASSWORD).json()
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {session['token']}")

    response = token_client.post(
        "/api/users/me/password/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 204
    assert token_client.get("/api/users/me/").status_code == 401  # the DRF token is gone
    assert refresh_with(api_client, session["refresh"]).status_code == 401  # blacklisted
    assert login(api_client, "sam", PASSWORD).status_code == 401
    assert login(api_client, "sam", NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"old_password": "wrong-old-one", "new_password": NEW_PASSWORD}, "old_password"),
        ({"old_password": PASSWORD, "new_password": "123"}, "new_password"),
        ({"old_password": PASSWORD, "new_password": "password"}, "new_password"),
        ({"old_password": PASSWORD}, "new_password"),
    ],
)
def test_a_wrong_old_or_weak_new_password_is_400_and_changes_nothing(sales_user, body, field):
    client = client_for(sales_user, scheme="Token")

    response = client.post("/api/users/me/password/", body)

    assert response.status_code == 400
    assert field in response.json()
    sales_user.refresh_from_db()
    assert sales_user.check_password(PASSWORD)
    assert Token.objects.filter(user=sales_user).exists()


def test_the_password_endpoint_needs_a_login(api_client):
    body = {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert api_client.post("/api/users/me/password/", body).status_code == 401


# --- Resetting a forgotten password --------------------------------------------------------------


def reset_token_from(message) -> tuple[str, str]:
    found = re.search(r'"uid": "([^"]+)", "token": "([^"]+)"', message.body)
    assert found, message.body
    return found.groups()


def test_a_reset_is_202_whether_or_not_the_address_is_known(api_client, sales_user, eager_celery):
    known = api_client.post("/api/password-reset/", {"email": sales_user.email.upper()})
    unknown = api_client.post("/api/password-reset/", {"email": "nobody@example.com"})

    assert (known.status_code, unknown.status_code) == (202, 202)
    assert known.content == unknown.content  # nothing tells them apart
    (message,) = mail.outbox
    assert message.to == [sales_user.email]
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "/api/password-reset/confirm/" in html


def test_a_reset_token_sets_a_new_password_once_and_ends_every_session(
    api_client, sales_user, eager_celery
):
    session = login(api_client, "sam", PASSWORD).json()
    api_client.post("/api/password-reset/", {"email": sales_user.email})
    uid, token = reset_token_from(mail.outbox[0])
    body = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}

    assert api_client.post("/api/password-reset/confirm/", body).status_code == 204
    again = api_client.post(
        "/api/password-reset/confirm/", {**body, "new_password": "x" + NEW_PASSWORD}
    )

    assert again.status_code == 400 and "token" in again.json()  # used: the password changed
    assert login(api_client, "sam", NEW_PASSWORD).status_code == 200
    assert refresh_with(api_client, session["refresh"]).status_code == 401
    assert not Token.objects.filter(key=session["token"]).exists()
    old_access = APIClient()
    old_access.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")
    assert old_access.get("/api/users/me/").status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        {"token": "1-abcdef"},
        {"uid": "Zm9v"},
        {"uid": "!!!"},
        {"new_password": "123"},
    ],
)
def test_a_bad_token_or_weak_password_is_400_and_changes_nothing(
    api_client, sales_user, eager_celery, change
):
    api_client.post("/api/password-reset/", {"email": sales_user.email})
    uid, token = reset_token_from(mail.outbox[0])
    body = {"uid": uid, "token": token, "new_password": NEW_PASSWORD, **change}

    response = api_client.post("/api/password-reset/confirm/", body)

    assert response.status_code == 400
    sales_user.refresh_from_db()
    assert sales_user.check_password(PASSWORD)


def test_a_reset_token_expires_after_password_reset_timeout(
    api_client, sales_user, eager_celery, settings, monkeypatch
):
    settings.PASSWORD_RESET_TIMEOUT = 60
    api_client.post("/api/password-reset/", {"email": sales_user.email})
    uid, token = reset_token_from(mail.outbox[0])
    later = datetime.datetime.now() + datetime.timedelta(seconds=61)
    from django.contrib.auth import tokens

    monkeypatch.setattr(tokens.default_token_generator, "_now", lambda: later)
    body = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}

    assert api_client.post("/api/password-reset/confirm/", body).status_code == 400


def test_reset_requests_are_throttled_as_anonymous(api_client, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "1000/minute"}
    )
    statuses = [
        api_client.post("/api/password-reset/", {"email": "a@example.com"}).status_code
        for _ in range(3)
    ]
    assert statuses == [202, 202, 429]


# --- DRF tokens expire ---------------------------------------------------------------------------


def test_a_drf_token_expires_after_auth_token_days_and_is_deleted(api_client, sales_user, settings):
    settings.AUTH_TOKEN_DAYS = 30
    key = login(api_client, "sam", PASSWORD).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/users/me/").status_code == 200

    Token.objects.filter(key=key).update(
        created=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30, seconds=1)
    )

    assert client.get("/api/users/me/").status_code == 401
    assert not Token.objects.filter(key=key).exists()
    fresh = login(api_client, "sam", PASSWORD).json()["token"]
    assert fresh != key


def test_logging_in_again_replaces_an_expired_token(api_client, sales_user):
    old = login(api_client, "sam", PASSWORD).json()["token"]
    Token.objects.filter(key=old).update(
        created=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=31)
    )

    new = login(api_client, "sam", PASSWORD).json()["token"]

    assert new != old
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert client.get("/api/users/me/").status_code == 200


# --- Login throttling per username, however it is spelled ----------------------------------------


def test_the_login_throttle_counts_usernames_case_insensitively_spaces_stripped(
    api_client, manager_user
):
    for spelling in ("mike", "MIKE", " Mike ", "mIkE", "mike  "):
        assert login(api_client, spelling, "wrong").status_code == 401

    assert login(api_client, "mike", PASSWORD).status_code == 429
    assert login(api_client, "  MIKE", PASSWORD).status_code == 429
    assert User.objects.get(username="mike").check_password(PASSWORD)
