"""Password-reset emails go through an outbox (issue 21, 3): a request is answered 202 after the
same work whether or not the address is known, even while the broker is unreachable (it was a
500 after 2.4 s for a known address, and 0.1 s for an unknown one); the email goes out after
the answer, or from the sweep once the broker is back; an address gets at most
PASSWORD_RESET_MAX_PER_ADDRESS requests an hour. tests/deploy has the real Redis outage."""

import datetime
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core import broker
from tests.support.concurrency import run_concurrently, status_codes
from users import tasks
from users.models import PasswordResetRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):
    """Every task queued fails as it does when Redis is unreachable (kombu's OperationalError)."""
    from celery.app.task import Task
    from kombu.exceptions import OperationalError

    from config.celery import app

    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    monkeypatch.setattr(Task, "apply_async", unreachable)
    monkeypatch.setattr(broker, "_down_until", 0.0)
    yield
    app.conf.task_always_eager = previous


def reset(email: str):
    return APIClient().post("/api/password-reset/", {"email": email}, format="json")


def test_while_the_broker_is_unreachable_a_reset_is_202_and_goes_out_once_it_is_back(
    sales_user, broker_down
):
    known, unknown = reset(sales_user.email), reset("nobody@example.com")

    assert (known.status_code, unknown.status_code) == (202, 202)
    assert known.content == unknown.content
    assert mail.outbox == []
    assert PasswordResetRequest.objects.filter(user=sales_user, sent_at=None).count() == 1

    call_command("deliver_password_resets")  # what beat runs every minute, once it is back

    (message,) = mail.outbox
    assert message.to == [sales_user.email]
    assert re.search(r'"uid": "[^"]+", "token": "[^"]+"', message.body)
    call_command("deliver_password_resets")
    assert len(mail.outbox) == 1  # sent once


def test_a_known_and_an_unknown_address_take_the_same_work(sales_user, broker_down):
    """The answer's timing cannot tell them apart: the same statements run for both (the
    account is looked up either way; the email is rendered and sent only after the answer)."""

    def statements(email):
        with CaptureQueriesContext(connection) as queries:
            assert reset(email).status_code == 202
        return [
            re.sub(r"'[^']*'|\"s\d+_x\d+\"|\bNULL\b|\b\d+\b", "?", query["sql"])
            for query in queries
        ]

    assert statements(sales_user.email) == statements("nobody@example.com")


@pytest.mark.usefixtures("eager_celery")
def test_the_email_goes_out_after_the_answer_has_been_sent(sales_user):
    """As a WSGI server runs it: the answer is complete before any email work starts; the
    server's close() after sending it delivers the email (in-process without a broker)."""
    from django.core import signals
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import close_old_connections
    from django.test import RequestFactory

    request = RequestFactory().post(
        "/api/password-reset/",
        data=f'{{"email": "{sales_user.email}"}}',
        content_type="application/json",
        HTTP_X_FORWARDED_PROTO="https",
    )
    signals.request_started.disconnect(close_old_connections)  # keep the test's transaction
    signals.request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(request.environ, lambda status, headers: None)
        answer = b"".join(response)
        assert response.status_code == 202 and response["Content-Length"] == str(len(answer))
        assert mail.outbox == []  # the client has its whole answer: nothing was sent yet
        response.close()  # what the server does once it has sent it
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    (message,) = mail.outbox
    assert message.to == [sales_user.email]


@pytest.mark.usefixtures("eager_celery")
@pytest.mark.parametrize("known", [True, False])
def test_an_address_gets_at_most_three_requests_an_hour(sales_user, known, settings):
    email = sales_user.email if known else "nobody@example.com"

    assert [reset(email).status_code for _ in range(10)] == [202] * 10

    assert len(mail.outbox) == (3 if known else 0)
    assert PasswordResetRequest.objects.count() == 3
    PasswordResetRequest.objects.update(
        requested_at=timezone.now()
        - datetime.timedelta(seconds=settings.PASSWORD_RESET_WINDOW_SECONDS)
    )
    assert reset(email.upper()).status_code == 202  # an hour later, the same address
    assert len(mail.outbox) == (4 if known else 0)


@pytest.mark.usefixtures("eager_celery")
def test_a_failed_send_is_retried_with_backoff_and_a_stale_one_is_dropped(
    sales_user, settings, monkeypatch
):
    from django.core.mail.backends.locmem import EmailBackend

    def smtp_down(self, messages):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as patch:
        patch.setattr(EmailBackend, "send_messages", smtp_down)
        assert reset(sales_user.email).status_code == 202
    request = PasswordResetRequest.objects.get()
    assert (request.sent_at, request.attempts) == (None, 1)
    assert request.next_attempt_at > timezone.now()  # backing off

    tasks.deliver_password_resets()
    assert mail.outbox == []
    PasswordResetRequest.objects.update(next_attempt_at=timezone.now())
    tasks.deliver_password_resets()
    assert len(mail.outbox) == 1

    assert reset(sales_user.email).status_code == 202
    assert len(mail.outbox) == 2
    with monkeypatch.context() as patch:  # never sent within the link's lifetime: dropped
        patch.setattr(EmailBackend, "send_messages", smtp_down)
        assert reset(sales_user.email).status_code == 202
    PasswordResetRequest.objects.filter(sent_at=None).update(
        requested_at=timezone.now() - datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
        next_attempt_at=timezone.now(),
    )
    tasks.deliver_password_resets()
    assert len(mail.outbox) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_requests_for_one_address_writes_at_most_three(sales_user, broker_down):
    """Requests for one address queue on an advisory lock: 20 at once write exactly 3."""
    results = run_concurrently([lambda: reset(sales_user.email)] * 20, workers=20)

    assert status_codes(results) == {202: 20}
    assert PasswordResetRequest.objects.filter(user=sales_user).count() == 3
