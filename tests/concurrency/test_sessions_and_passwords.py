"""A new password ends every session, however requests race the change: real threads on
PostgreSQL (issue 21, 1).

The change was a blacklist of the user's outstanding refresh tokens. A refresh that had read its
token before that blacklist committed, or a login that had checked the old password, minted a
token afterwards that no blacklist ever saw: a session that outlived the password. Now every JWT
carries a digest of the password hash it was issued under, checked on every request, refresh and
verify (users.authentication.issued_under_current_password), and a refresh or a login issues its
tokens under the user's row lock, reading the password again.

Each test holds one request at the point where it went wrong while the password changes, then
lets it finish, and checks that nothing it handed out still opens a session.
"""

import threading
import time

import pytest
from django.contrib.auth import backends
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.conftest import client_for
from tests.factories import PASSWORD, UserFactory
from tests.support.concurrency import HOLD, Pause, Request
from users.models import Role

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-brand-new-passphrase-42"


def login(path: str = "/api/login/", password: str = PASSWORD):
    return APIClient().post(path, {"username": "mike", "password": password}, format="json")


def refresh(token: str):
    return APIClient().post("/api/token/refresh/", {"refresh": token}, format="json")


def opens_a_session(answer) -> list[str]:
    """What in a login or refresh answer (or its body) still works: the refresh token, the
    access token (on an endpoint and on verify), the DRF token."""
    if not isinstance(answer, dict) and answer.status_code != 200:
        return []
    body, working = answer if isinstance(answer, dict) else answer.json(), []
    if "refresh" in body and refresh(body["refresh"]).status_code == 200:
        working.append("refresh")
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    if bearer.get("/api/users/me/").status_code == 200:
        working.append("access")
    verify = APIClient().post("/api/token/verify/", {"token": body["access"]}, format="json")
    if verify.status_code == 200:
        working.append("verify")
    if "token" in body:
        token = APIClient()
        token.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
        if token.get("/api/users/me/").status_code == 200:
            working.append("token")
    return working


@pytest.fixture
def people(organization):
    admin = UserFactory(username="alice", organization=organization, role=Role.ADMIN)
    manager = UserFactory(username="mike", organization=organization, role=Role.MANAGER)
    return admin, manager


def change_password_by_admin(admin, manager):
    """The admin sets the manager's password (PATCH /api/users/{id}/), on its own thread."""
    client = client_for(admin)
    return Request(
        lambda: client.patch(f"/api/users/{manager.pk}/", {"password": NEW_PASSWORD}, format="json")
    )


@pytest.mark.parametrize(
    "held_at",
    [
        "blacklist",  # it found its token not blacklisted, and rotates it out
        "outstand",  # it writes down the new refresh token it mints
    ],
)
def test_a_refresh_racing_a_password_change_leaves_no_session(monkeypatch, people, held_at):
    """The issue's race: the refresh read its token before the change's blacklist committed,
    then minted a new pair the blacklist never saw (7 of 15 trials kept a chain)."""
    admin, manager = people
    first = login().json()["refresh"]
    pause = Pause(monkeypatch, RefreshToken, held_at, before=True)

    refreshing = Request(lambda: refresh(first))
    pause.wait_until_reached()
    change = change_password_by_admin(admin, manager)
    change.join(timeout=HOLD)  # commits now, unless it queues behind the refresh's row lock
    pause.release()

    assert change.answer().status_code == 200
    refreshed = refreshing.answer()
    assert refreshed.status_code in (200, 401)
    assert opens_a_session(refreshed) == []
    assert refresh(first).status_code == 401
    assert login(password=NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize("path", ["/api/login/", "/api/token/"])
def test_a_login_racing_a_password_change_leaves_no_session(monkeypatch, people, path):
    """A login that checked the old password just before the change committed, and issued its
    tokens just after it: the change's end of sessions never saw them (a DRF token valid 30
    days, a refresh chain)."""
    admin, manager = people
    pause = Pause(monkeypatch, backends.ModelBackend, "authenticate")  # held after the check

    logging_in = Request(lambda: login(path))
    pause.wait_until_reached()
    assert change_password_by_admin(admin, manager).answer().status_code == 200
    pause.release()

    answer = logging_in.answer()
    assert answer.status_code in (200, 401)
    assert opens_a_session(answer) == []


def test_refreshes_in_a_loop_through_a_password_change_keep_no_chain(people):
    """Clients refreshing as fast as they can while the admin sets a new password: after the
    change, no chain goes on, and no token handed out before or during it works."""
    admin, manager = people
    chains = [login().json() for _ in range(3)]
    changed = threading.Event()
    refreshed_after_change = []

    def keep_refreshing(chain: dict):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            after = changed.is_set()
            answer = refresh(chain["refresh"])
            if answer.status_code != 200:
                return
            chain.update(answer.json())
            if after:
                refreshed_after_change.append(answer.status_code)

    clients = [Request(lambda chain=chain: keep_refreshing(chain)) for chain in chains]
    time.sleep(0.3)
    assert change_password_by_admin(admin, manager).answer().status_code == 200
    changed.set()
    for client in clients:
        client.answer()

    assert refreshed_after_change == []
    for chain in chains:
        assert opens_a_session(chain) == []
