"""API.md "Authentication and tenancy": register, login, logout, tokens, me."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.factories import PASSWORD
from tests.support.api import client_for, register
from users.models import Organization, Role, User

ME_FIELDS = {"id", "username", "email", "first_name", "last_name", "role", "organization"}


def login(client, username, password, path="/api/login/", **extra):
    return client.post(path, {"username": username, "password": password}, format="json", **extra)


# --- register ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_register_creates_an_organization_whose_admin_is_the_new_user(api_client):
    response = register(api_client)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == ME_FIELDS
    assert "password" not in response.content.decode()
    assert body["username"] == "newshop"
    assert body["role"] == "admin"
    assert body["organization"]["name"] == "New Shop Ltd"
    user = User.objects.get(username="newshop")
    assert user.organization_id == body["organization"]["id"]
    assert user.check_password("a-long-unusual-passphrase")
    assert list(user.groups.values_list("name", flat=True)) == ["admin"]


@pytest.mark.django_db
def test_register_without_organization_name_names_one_after_the_user(api_client):
    response = register(api_client, organization="")
    assert response.status_code == 201
    assert response.json()["organization"]["name"] == "newshop's organization"


@pytest.mark.django_db
def test_each_registration_gets_its_own_organization(api_client):
    register(api_client)
    register(api_client, username="second", email="second@example.com")
    assert Organization.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": "ALICE"}, "username"),  # taken, case-insensitively
        ({"password": "password"}, "password"),  # common
        ({"password": "12345678901"}, "password"),  # numeric
        ({"password": "short"}, "password"),  # too short
        ({"password": "newshop-owner"}, "password"),  # too similar to the username? no: email
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"email": "a" * 300 + "@example.com"}, "email"),  # longer than the column
        ({"username": ""}, "username"),
        ({"username": "has spaces"}, "username"),
        ({"username": None}, "username"),
    ],
)
def test_register_refuses_bad_input_and_creates_nothing(api_client, admin_user, overrides, field):
    if overrides.get("password") == "newshop-owner":
        overrides = {"password": "owner@newshop", "email": "owner@newshop.example"}
    users_before = User.objects.count()
    orgs_before = Organization.objects.count()

    response = register(api_client, **overrides)

    assert response.status_code == 400
    assert field in response.json()
    assert User.objects.count() == users_before
    assert Organization.objects.count() == orgs_before


@pytest.mark.django_db
def test_register_ignores_credentials_it_does_not_need(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert register(api_client).status_code == 201


# --- login -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_returns_jwt_pair_drf_token_and_user(api_client, manager_user):
    response = login(api_client, "mike", PASSWORD)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "token", "user"}
    assert body["user"]["username"] == "mike"
    assert body["user"]["role"] == "manager"
    assert body["token"] == Token.objects.get(user=manager_user).key
    assert AccessToken(body["access"])["user_id"] == str(manager_user.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
def test_login_credentials_authenticate_later_requests(api_client, manager_user, scheme):
    body = login(api_client, "mike", PASSWORD).json()
    credential = body["access"] if scheme == "Bearer" else body["token"]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {credential}")
    response = client.get("/api/users/me/")

    assert response.status_code == 200
    assert response.json()["username"] == "mike"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "password"), [("mike", "wrong-password"), ("nobody", PASSWORD)]
)
def test_login_with_bad_credentials_is_401(api_client, manager_user, username, password):
    response = login(api_client, username, password)
    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.django_db
def test_login_of_a_deactivated_user_is_401(api_client, manager_user):
    manager_user.is_active = False
    manager_user.save()
    assert login(api_client, "mike", PASSWORD).status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, {"username": "mike"}, {"username": ["x"], "password": 1}])
def test_login_with_missing_fields_is_400(api_client, manager_user, body):
    assert api_client.post("/api/login/", body, format="json").status_code == 400


# --- login throttling -------------------------------------------------------------------------


@pytest.mark.django_db
def test_sixth_login_attempt_after_five_failures_is_429_even_with_the_right_password(
    api_client, manager_user
):
    for _ in range(5):
        assert login(api_client, "mike", "wrong").status_code == 401

    response = login(api_client, "mike", PASSWORD)

    assert response.status_code == 429
    assert "detail" in response.json()
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_login_throttle_is_per_username_and_address(api_client, manager_user, sales_user):
    for _ in range(5):
        login(api_client, "mike", "wrong")

    assert login(api_client, "sam", PASSWORD).status_code == 200  # another user
    assert login(api_client, "mike", PASSWORD, REMOTE_ADDR="10.9.8.7").status_code == 200
    assert login(api_client, "mike", PASSWORD).status_code == 429


@pytest.mark.django_db
def test_login_and_token_endpoints_share_the_failure_count(api_client, manager_user):
    for _ in range(3):
        assert login(api_client, "mike", "wrong").status_code == 401
    for _ in range(2):
        assert login(api_client, "mike", "wrong", path="/api/token/").status_code == 401

    assert login(api_client, "mike", PASSWORD, path="/api/token/").status_code == 429
    assert login(api_client, "mike", PASSWORD).status_code == 429


@pytest.mark.django_db
def test_a_successful_login_resets_the_failure_count(api_client, manager_user):
    for _ in range(4):
        login(api_client, "mike", "wrong")
    assert login(api_client, "mike", PASSWORD).status_code == 200
    for _ in range(4):
        login(api_client, "mike", "wrong")
    assert login(api_client, "mike", PASSWORD).status_code == 200


@pytest.mark.django_db
def test_login_is_allowed_again_once_the_window_passes(api_client, manager_user, monkeypatch):
    import time

    from core import cache

    now = time.time()
    monkeypatch.setattr(cache, "clock", lambda: now)
    for _ in range(5):
        login(api_client, "mike", "wrong")
    assert login(api_client, "mike", PASSWORD).status_code == 429

    later = now + 15 * 60 + 1  # the 15-minute window has passed
    monkeypatch.setattr(cache, "clock", lambda: later)

    assert login(api_client, "mike", PASSWORD).status_code == 200


@pytest.mark.django_db
def test_without_redis_the_failure_count_lives_in_the_database(api_client, manager_user, settings):
    settings.CACHES = {
        "default": {"BACKEND": "core.cache.DatabaseCache", "LOCATION": "stockroom_cache"}
    }
    from django.core.cache import cache
    from django.db import connection

    cache.clear()  # the table exists: `migrate` made it (no createcachetable step)
    for _ in range(5):
        login(api_client, "mike", "wrong")

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM stockroom_cache WHERE cache_key LIKE %s", ["%login%"])
        assert cursor.fetchone()[0] >= 1
    assert login(api_client, "mike", PASSWORD).status_code == 429


@pytest.mark.django_db
@pytest.mark.parametrize("cache_backend", ["configured", "database"])
@pytest.mark.parametrize("path", ["/api/login/", "/api/token/", "/admin/login/"])
def test_logins_the_database_could_not_check_do_not_count_as_failures(
    client, manager_user, monkeypatch, settings, path, cache_backend
):
    """Only a wrong password counts: logins answered 503 while the database was unreachable
    (the attempt is counted before the password is checked) are given back, so a client that
    retried through the outage is not locked out afterwards (tests/deploy has the real outage).
    """
    from django.contrib.auth import backends
    from django.core.cache import cache
    from django.db import OperationalError

    if cache_backend == "database":
        settings.CACHES = {
            "default": {"BACKEND": "core.cache.DatabaseCache", "LOCATION": "stockroom_cache"}
        }
        cache.clear()
    manager_user.admin_access = True
    manager_user.save(update_fields=["admin_access"])
    real = backends.ModelBackend.authenticate

    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    def attempt(password) -> str:
        body = {"username": "mike", "password": password}
        if not path.startswith("/admin/"):
            status = client.post(path, body, content_type="application/json").status_code
            return {200: "in", 401: "refused", 429: "throttled", 503: "unavailable"}[status]
        page = client.post(path, body)
        if page.status_code != 200:
            return {302: "in", 503: "unavailable"}[page.status_code]
        return "throttled" if b"Too many failed login attempts" in page.content else "refused"

    monkeypatch.setattr(backends.ModelBackend, "authenticate", unreachable)
    assert [attempt(PASSWORD) for _ in range(7)] == ["unavailable"] * 7
    monkeypatch.setattr(backends.ModelBackend, "authenticate", real)
    assert [attempt("wrong") for _ in range(4)] == ["refused"] * 4  # wrong passwords count
    assert attempt(PASSWORD) == "in"
    assert [attempt("wrong") for _ in range(6)] == ["refused"] * 5 + ["throttled"]
    assert attempt(PASSWORD) == "throttled"


# --- JWT endpoints ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_token_obtain_returns_a_pair(api_client, manager_user):
    response = login(api_client, "mike", PASSWORD, path="/api/token/")
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


@pytest.mark.django_db
def test_token_obtain_with_bad_credentials_is_401(api_client, manager_user):
    assert login(api_client, "mike", "nope", path="/api/token/").status_code == 401


@pytest.mark.django_db
def test_refresh_rotates_and_blacklists_the_old_refresh_token(api_client, manager_user):
    refresh = str(RefreshToken.for_user(manager_user))

    response = api_client.post("/api/token/refresh/", {"refresh": refresh}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != refresh
    again = api_client.post("/api/token/refresh/", {"refresh": refresh}, format="json")
    assert again.status_code == 401
    newer = api_client.post("/api/token/refresh/", {"refresh": body["refresh"]}, format="json")
    assert newer.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("refresh", ["garbage", "", None])
def test_refresh_with_a_bad_token_is_rejected(api_client, refresh):
    response = api_client.post("/api/token/refresh/", {"refresh": refresh}, format="json")
    assert response.status_code in (400, 401)
    assert response.status_code == (401 if refresh == "garbage" else 400)


@pytest.mark.django_db
def test_verify_answers_200_for_a_valid_token_and_401_otherwise(api_client, manager_user):
    access = str(RefreshToken.for_user(manager_user).access_token)
    ok = api_client.post("/api/token/verify/", {"token": access}, format="json")
    bad = api_client.post("/api/token/verify/", {"token": access[:-4] + "abcd"}, format="json")
    assert ok.status_code == 200
    assert bad.status_code == 401


@pytest.mark.django_db
def test_verify_answers_401_for_a_blacklisted_refresh_token(api_client, manager_user):
    refresh = RefreshToken.for_user(manager_user)
    refresh.blacklist()
    response = api_client.post("/api/token/verify/", {"token": str(refresh)}, format="json")
    assert response.status_code == 401


@pytest.mark.django_db
def test_an_expired_access_token_is_401(api_client, manager_user):
    from datetime import timedelta

    token = AccessToken.for_user(manager_user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/users/me/").status_code == 401


@pytest.mark.django_db
def test_login_access_tokens_expire_after_fifteen_minutes(api_client, manager_user):
    body = login(api_client, "mike", PASSWORD).json()
    access = AccessToken(body["access"])
    # (exp and iat are read from the clock a few microseconds apart, then truncated.)
    assert access["exp"] - access["iat"] in (15 * 60 - 1, 15 * 60)


@pytest.mark.django_db
def test_refresh_with_a_deleted_users_token_is_401_not_500(api_client, organization):
    from tests.factories import UserFactory

    gone = UserFactory(organization=organization, role=Role.SALES)
    refresh = str(RefreshToken.for_user(gone))
    gone.delete()

    response = api_client.post("/api/token/refresh/", {"refresh": refresh}, format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found for the given token."}


@pytest.mark.django_db
@pytest.mark.parametrize("fate", ["deleted", "deactivated"])
def test_verify_is_401_for_a_deleted_or_deactivated_users_token(api_client, organization, fate):
    from tests.factories import UserFactory

    user = UserFactory(organization=organization, role=Role.SALES)
    access = str(RefreshToken.for_user(user).access_token)
    assert api_client.post("/api/token/verify/", {"token": access}).status_code == 200
    if fate == "deleted":
        user.delete()
    else:
        User.objects.filter(pk=user.pk).update(is_active=False)

    assert api_client.post("/api/token/verify/", {"token": access}).status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api_client.get("/api/users/me/").status_code == 401  # as every endpoint says


@pytest.mark.django_db
def test_a_password_set_by_an_admin_ends_every_session_of_the_user(
    api_client, admin_client, manager_user, client
):
    body = login(api_client, "mike", PASSWORD).json()
    other_refresh = str(RefreshToken.for_user(manager_user))  # another device

    response = admin_client.patch(
        f"/api/users/{manager_user.pk}/", {"password": "a-new-long-passphrase-42"}
    )

    assert response.status_code == 200
    assert not Token.objects.filter(user=manager_user).exists()
    for refresh in (body["refresh"], other_refresh):
        again = api_client.post("/api/token/refresh/", {"refresh": refresh}, format="json")
        assert again.status_code == 401


@pytest.mark.django_db
def test_a_password_set_in_the_django_admin_ends_every_session_too(
    api_client, manager_user, client
):
    from tests.factories import UserFactory

    body = login(api_client, "mike", PASSWORD).json()
    client.force_login(UserFactory(organization=None, is_staff=True, is_superuser=True))

    page = client.post(
        f"/admin/users/user/{manager_user.pk}/password/",
        {"password1": "a-new-long-passphrase-42", "password2": "a-new-long-passphrase-42"},
    )

    assert page.status_code == 302
    refreshed = api_client.post("/api/token/refresh/", {"refresh": body["refresh"]}, format="json")
    assert refreshed.status_code == 401
    assert not Token.objects.filter(user=manager_user).exists()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert api_client.get("/api/users/me/").status_code == 401  # the access token too, at once


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["redis", "database"])
def test_concurrent_wrong_passwords_get_exactly_the_allowed_checks(backend, settings, monkeypatch):
    """60 simultaneous wrong passwords for one username and address: exactly 5 are checked
    (401), every other one is 429, in Redis and in the database cache alike."""
    import os
    import threading

    from django.contrib.auth import backends
    from django.core.cache import cache
    from django.db import connection

    from tests.factories import UserFactory

    if backend == "redis":
        if not os.environ.get("REDIS_URL"):
            pytest.skip("needs Redis (set REDIS_URL)")
        settings.CACHES = {
            "default": {
                "BACKEND": "core.cache.ResilientRedisCache",
                "LOCATION": os.environ["REDIS_URL"],
                "KEY_PREFIX": "test-login-race",
            }
        }
    else:
        settings.CACHES = {
            "default": {"BACKEND": "core.cache.DatabaseCache", "LOCATION": "stockroom_cache"}
        }
    cache.clear()
    UserFactory(username="target")
    checked = []
    real = backends.ModelBackend.authenticate

    def counting(self, request, username=None, password=None, **kwargs):
        checked.append(username)
        return real(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(backends.ModelBackend, "authenticate", counting)
    barrier = threading.Barrier(20)
    statuses = []

    def attempt():
        try:
            client = APIClient()
            barrier.wait()
            for _ in range(3):
                statuses.append(login(client, "target", "wrong").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(statuses) == 60
    assert statuses.count(401) == 5 and statuses.count(429) == 55
    assert len(checked) == 5
    cache.clear()


# --- logout -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_logout_deletes_the_token_and_blacklists_the_refresh(api_client, manager_user):
    body = login(api_client, "mike", PASSWORD).json()
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    jwt_client = APIClient()
    jwt_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")

    response = token_client.post("/api/logout/", {"refresh": body["refresh"]}, format="json")

    assert response.status_code == 204
    assert not Token.objects.filter(user=manager_user).exists()
    assert token_client.get("/api/users/me/").status_code == 401
    refreshed = api_client.post("/api/token/refresh/", {"refresh": body["refresh"]}, format="json")
    assert refreshed.status_code == 401
    # An access JWT stays valid until it expires.
    assert jwt_client.get("/api/users/me/").status_code == 200


@pytest.mark.django_db
def test_logout_without_refresh_only_deletes_the_token(api_client, manager_user):
    body = login(api_client, "mike", PASSWORD).json()
    client = client_for(manager_user)

    assert client.post("/api/logout/", {}, format="json").status_code == 204

    assert not Token.objects.filter(user=manager_user).exists()
    refreshed = api_client.post("/api/token/refresh/", {"refresh": body["refresh"]}, format="json")
    assert refreshed.status_code == 200


@pytest.mark.django_db
def test_logout_refuses_a_refresh_token_that_is_not_the_callers(manager_user, sales_user):
    other = str(RefreshToken.for_user(sales_user))
    client = client_for(manager_user)

    response = client.post("/api/logout/", {"refresh": other}, format="json")

    assert response.status_code == 400
    assert "refresh" in response.json()


@pytest.mark.django_db
def test_logout_with_a_malformed_refresh_is_400(manager_user):
    response = client_for(manager_user).post("/api/logout/", {"refresh": "x"}, format="json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_logout_needs_authentication(api_client):
    assert api_client.post("/api/logout/", {}, format="json").status_code == 401


# --- me ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
def test_me_shows_the_caller_with_role_and_organization(sales_user, scheme):
    response = client_for(sales_user, scheme=scheme).get("/api/users/me/")

    assert response.status_code == 200
    assert response.json() == {
        "id": sales_user.pk,
        "username": "sam",
        "email": "sam@example.com",
        "first_name": "",
        "last_name": "",
        "role": "sales",
        "organization": {"id": sales_user.organization_id, "name": "Corner Shop"},
    }


@pytest.mark.django_db
def test_me_patch_changes_contact_details_but_not_username_or_role(sales_user):
    client = client_for(sales_user)
    response = client.patch(
        "/api/users/me/",
        {
            "email": "sam@corner.example",
            "first_name": "Sam",
            "last_name": "Rep",
            "username": "boss",
            "role": "admin",
        },
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["email"] == "sam@corner.example"
    assert response.json()["first_name"] == "Sam"
    sales_user.refresh_from_db()
    assert (sales_user.username, sales_user.role) == ("sam", "sales")
    assert sales_user.last_name == "Rep"


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["nope", "a" * 250 + "@example.com"])
def test_me_patch_with_a_bad_email_is_400(sales_user, email):
    response = client_for(sales_user).patch("/api/users/me/", {"email": email}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()


@pytest.mark.django_db
def test_me_refuses_put_with_405(sales_user):
    response = client_for(sales_user).put("/api/users/me/", {"email": "a@b.c"}, format="json")
    assert response.status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header", [None, "Bearer garbage", "Token 0123456789abcdef", "Basic bWlrZTpwYXNz"]
)
def test_me_without_valid_credentials_is_401(api_client, header):
    if header:
        api_client.credentials(HTTP_AUTHORIZATION=header)
    assert api_client.get("/api/users/me/").status_code == 401


@pytest.mark.django_db
def test_session_authentication_works_for_the_browsable_api(sales_user):
    client = APIClient()
    client.force_login(sales_user)
    assert client.get("/api/users/me/").json()["username"] == "sam"


@pytest.mark.django_db
def test_roles_exist_as_groups_with_model_permissions():
    groups = {g.name: g for g in Group.objects.prefetch_related("permissions__content_type")}
    assert {"admin", "manager", "sales"} <= set(groups)

    def perms(role):
        return {f"{p.content_type.app_label}.{p.codename}" for p in groups[role].permissions.all()}

    assert "users.add_user" in perms("admin")
    assert "inventory.delete_product" in perms("admin")
    assert "inventory.change_product" in perms("manager")
    assert "inventory.delete_product" not in perms("manager")
    assert "users.view_user" not in perms("manager")
    assert "inventory.view_product" in perms("sales")
    assert "inventory.change_product" not in perms("sales")
    assert "sales.add_salesorder" in perms("sales")
    assert "purchases.view_purchaseorder" not in perms("sales")
