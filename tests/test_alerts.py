"""Low-stock alerts: the daily digest, immediate crossings (deduplicated), history, retries."""

import datetime
import smtplib
import threading
import time

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from alerts import services, tasks
from alerts.models import AlertLog, StockAlert
from inventory.models import Product
from inventory.selectors import utc_today
from stock.models import StockMovement
from stock.services import record_movement
from tests.factories import ProductFactory, UserFactory
from users.models import Role

IN, OUT = StockMovement.MovementType.IN, StockMovement.MovementType.OUT


@pytest.fixture
def eager_celery():
    """Run tasks in-process even when REDIS_URL points Celery at a real broker."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous


@pytest.fixture
def shop(organization, other_organization, admin_user, manager_user, stocked):
    """Corner Shop (a manager, an admin) and Rival Shop (admins only), with problems to report."""
    yesterday = utc_today() - datetime.timedelta(days=1)
    UserFactory(organization=organization, role=Role.MANAGER, email="night@example.com")
    UserFactory(organization=organization, role=Role.MANAGER, is_active=False, email="gone@x.io")
    UserFactory(organization=organization, role=Role.MANAGER, email="")
    UserFactory(organization=organization, role=Role.SALES, email="seller@example.com")
    rival_admin = UserFactory(
        organization=other_organization, role=Role.ADMIN, email="boss@rival.example"
    )
    products = {
        "tea": stocked(2, organization=organization, sku="TEA-1", name="Green tea",
                       low_stock_threshold=5),
        "yoghurt": stocked(8, organization=organization, sku="YOG-1", name="Yoghurt",
                           expiration_date=yesterday),
        "fine": stocked(50, organization=organization, sku="FINE", low_stock_threshold=5),
        "rival": stocked(0, organization=other_organization, sku="RIV-1", name="Rival widget"),
    }  # fmt: skip
    archived = stocked(0, organization=organization, sku="ARCH", low_stock_threshold=9)
    Product.objects.filter(pk=archived.pk).update(is_archived=True)
    ProductFactory(organization=organization, sku="PARENT", has_variations=True)
    return {"products": products, "rival_admin": rival_admin, "yesterday": yesterday}


def _emails_to(address):
    return [message for message in mail.outbox if address in message.to]


# --- The daily digest ------------------------------------------------------------------------


def test_daily_check_sends_one_email_per_organization_to_its_managers(
    shop, organization, other_organization, manager_user, admin_user, eager_celery
):
    queued = tasks.check_low_stock.delay().get()

    assert sorted(queued) == sorted([organization.pk, other_organization.pk])
    assert len(mail.outbox) == 2
    corner = _emails_to(manager_user.email)[0]
    # Active managers with an address; not the admin, the sales rep or inactive managers.
    assert sorted(corner.to) == sorted([manager_user.email, "night@example.com"])
    assert "Corner Shop" in corner.subject
    assert "1 low-stock and 1 expired" in corner.subject
    assert "TEA-1 | Green tea | 2 | 5" in corner.body
    assert f"YOG-1 | Yoghurt | 8 | {shop['yesterday'].isoformat()}" in corner.body
    for absent in ("FINE", "ARCH", "PARENT", "RIV-1"):
        assert absent not in corner.body
    html, mimetype = corner.alternatives[0]
    assert mimetype == "text/html"
    assert "<td>TEA-1</td><td>Green tea</td><td>2</td><td>5</td>" in html
    assert f"<td>{shop['yesterday'].isoformat()}</td>" in html
    # An organization without managers: its admins.
    rival = _emails_to("boss@rival.example")[0]
    assert rival.to == ["boss@rival.example"]
    assert "RIV-1 | Rival widget | 0 | 0" in rival.body

    corner_log = AlertLog.objects.get(organization=organization)
    assert corner_log.kind == AlertLog.Kind.DAILY_DIGEST
    assert sorted(corner_log.recipients) == sorted([manager_user.email, "night@example.com"])
    assert (corner_log.low_stock_count, corner_log.expired_count) == (1, 1)
    assert AlertLog.objects.get(organization=other_organization).recipients == [
        "boss@rival.example"
    ]


def test_the_digest_repeats_everything_still_low_every_day(shop, organization, eager_celery):
    tasks.check_low_stock.delay()
    tasks.check_low_stock.delay()

    assert AlertLog.objects.filter(organization=organization).count() == 2
    assert all("TEA-1" in m.body for m in mail.outbox if "Corner Shop" in m.subject)


def test_nothing_is_sent_when_nothing_is_low_or_nobody_can_receive_it(
    organization, other_organization, admin_user, stocked, eager_celery
):
    stocked(10, organization=organization, low_stock_threshold=3)  # healthy
    stocked(0, organization=other_organization)  # low, but the organization has no users

    assert tasks.check_low_stock.delay().get() == [other_organization.pk]
    assert mail.outbox == []
    assert AlertLog.objects.count() == 0


def test_digest_lists_every_low_product_by_default(organization, manager_user, stocked):
    for n in range(30):
        stocked(0, organization=organization, sku=f"LOW-{n:02d}", low_stock_threshold=1)

    services.send_low_stock_digest(organization_id=organization.pk)

    body = mail.outbox[0].body
    assert all(f"LOW-{n:02d}" in body for n in range(30))
    assert "the first" not in body


def test_digest_lists_the_most_urgent_first_and_caps_long_lists_when_configured(
    organization, manager_user, stocked, settings
):
    settings.ALERT_EMAIL_MAX_ROWS = 2
    stocked(4, organization=organization, sku="A-SHORT-1", low_stock_threshold=5)
    stocked(0, organization=organization, sku="B-SHORT-9", low_stock_threshold=9)
    stocked(1, organization=organization, sku="C-SHORT-3", low_stock_threshold=4)

    log = services.send_low_stock_digest(organization_id=organization.pk)

    body = mail.outbox[0].body
    assert log.low_stock_count == 3
    assert body.index("B-SHORT-9") < body.index("C-SHORT-3")
    assert "A-SHORT-1" not in body
    assert "the first 2 of 3" in body


def test_management_command_runs_the_check_at_once(shop, organization, capsys):
    call_command("check_low_stock")

    assert len(mail.outbox) == 2
    assert "2 low-stock email(s) sent" in capsys.readouterr().out
    assert AlertLog.objects.filter(kind=AlertLog.Kind.DAILY_DIGEST).count() == 2


def test_management_command_fails_loudly_and_logs_nothing_when_sending_fails(
    shop, monkeypatch, capsys
):
    def refuse(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("mail server down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)

    with pytest.raises(CommandError):
        call_command("check_low_stock")
    assert "mail server down" in capsys.readouterr().err
    assert AlertLog.objects.count() == 0


def test_a_failed_digest_send_is_retried_and_recorded_once(
    shop, organization, monkeypatch, eager_celery
):
    real_send = EmailMultiAlternatives.send
    attempts = []

    def flaky(self, fail_silently=False):
        attempts.append(self.subject)
        if len(attempts) == 1:
            raise smtplib.SMTPServerDisconnected("connection lost")
        return real_send(self, fail_silently)

    monkeypatch.setattr(EmailMultiAlternatives, "send", flaky)

    # throw=False: let the eager run retry, as a worker would, instead of raising at once.
    result = tasks.send_low_stock_digest.apply(
        kwargs={"organization_id": organization.pk}, throw=False
    )

    assert result.successful()
    assert len(attempts) == 2
    assert len(mail.outbox) == 1
    assert AlertLog.objects.filter(organization=organization).count() == 1


def test_digest_task_retries_with_backoff_on_network_and_smtp_errors():
    for task in (tasks.send_low_stock_digest, tasks.notify_low_stock_crossings):
        assert smtplib.SMTPException in task.autoretry_for
        assert OSError in task.autoretry_for
        assert task.retry_backoff is True
        assert task.max_retries >= 10
        assert task.acks_late is True


# --- Immediate crossings ---------------------------------------------------------------------


def _move(product, movement_type, quantity, user, capture):
    with capture(execute=True):
        record_movement(product=product, movement_type=movement_type, quantity=quantity, user=user)


def test_a_crossing_notifies_once_until_the_product_recovers(
    organization,
    admin_user,
    manager_user,
    stocked,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    tea = stocked(10, organization=organization, sku="TEA-9", low_stock_threshold=5)
    capture = django_capture_on_commit_callbacks

    _move(tea, OUT, 4, manager_user, capture)  # 6 > 5: not low
    assert mail.outbox == []
    assert not StockAlert.objects.exists()

    _move(tea, OUT, 1, manager_user, capture)  # 5 <= 5: crosses
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [manager_user.email]
    assert "just went low" in mail.outbox[0].subject
    assert "TEA-9 |" in mail.outbox[0].body
    assert "| 5 | 5" in mail.outbox[0].body
    alert = StockAlert.objects.get()
    assert alert.closed_at is None and alert.notified_at is not None
    assert (alert.quantity, alert.low_stock_threshold) == (5, 5)

    _move(tea, OUT, 2, manager_user, capture)  # still low: no repeat
    assert len(mail.outbox) == 1

    _move(tea, IN, 10, manager_user, capture)  # 13: recovered, the alert closes
    alert.refresh_from_db()
    assert alert.closed_at is not None
    assert len(mail.outbox) == 1

    _move(tea, OUT, 10, manager_user, capture)  # 3: crosses again, notifies again
    assert len(mail.outbox) == 2
    assert StockAlert.objects.filter(product=tea).count() == 2
    assert StockAlert.objects.filter(product=tea, closed_at__isnull=True).count() == 1
    logs = AlertLog.objects.filter(organization=organization, kind=AlertLog.Kind.LOW_STOCK)
    assert [(log.low_stock_count, log.recipients) for log in logs] == [
        (1, [manager_user.email]),
        (1, [manager_user.email]),
    ]


def test_one_email_lists_every_product_that_crossed_in_one_change(
    organization, admin_user, stocked, eager_celery, django_capture_on_commit_callbacks
):
    from stock.services import StockLine, take_out_of_stock

    a = stocked(3, organization=organization, sku="AAA", low_stock_threshold=1)
    b = stocked(3, organization=organization, sku="BBB", low_stock_threshold=1)
    with django_capture_on_commit_callbacks(execute=True):
        take_out_of_stock(
            lines=[StockLine(a.pk, 2), StockLine(b.pk, 3)],
            source="sales_order",
            reference="SO-00001",
            user=admin_user,
        )

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [admin_user.email]  # no manager: the admins
    assert "AAA" in mail.outbox[0].body and "BBB" in mail.outbox[0].body
    assert AlertLog.objects.get().low_stock_count == 2


def test_updating_alerts_twice_opens_one_alert_and_notifies_once(
    organization, manager_user, stocked
):
    low = stocked(1, organization=organization, low_stock_threshold=3)

    assert services.update_stock_alerts(organization_id=organization.pk, product_ids=[low.pk])
    assert services.update_stock_alerts(organization_id=organization.pk, product_ids=[low.pk])
    assert services.notify_low_stock_crossings(organization_id=organization.pk) is not None
    assert services.notify_low_stock_crossings(organization_id=organization.pk) is None
    assert StockAlert.objects.count() == 1
    assert len(mail.outbox) == 1


def test_the_database_allows_one_open_alert_per_product(organization, stocked):
    product = stocked(0, organization=organization)
    StockAlert.objects.create(
        organization=organization, product=product, quantity=0, low_stock_threshold=0
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        StockAlert.objects.create(
            organization=organization, product=product, quantity=0, low_stock_threshold=0
        )


def test_alerts_of_another_organizations_product_ids_are_ignored(
    organization, other_organization, stocked
):
    rival = stocked(0, organization=other_organization)

    assert not services.update_stock_alerts(organization_id=organization.pk, product_ids=[rival.pk])
    assert not StockAlert.objects.exists()


def test_a_failed_crossing_email_is_not_lost(
    organization, manager_user, stocked, monkeypatch, eager_celery
):
    low = stocked(0, organization=organization, sku="LOST-NOT", low_stock_threshold=2)
    services.update_stock_alerts(organization_id=organization.pk, product_ids=[low.pk])
    real_send = EmailMultiAlternatives.send

    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("smtp unreachable")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    with pytest.raises(ConnectionRefusedError):  # the task retries on this (autoretry_for)
        services.notify_low_stock_crossings(organization_id=organization.pk)
    assert StockAlert.objects.get().notified_at is None
    assert not AlertLog.objects.exists()

    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    tasks.notify_low_stock_crossings.apply(kwargs={"organization_id": organization.pk})
    assert len(mail.outbox) == 1 and "LOST-NOT" in mail.outbox[0].body
    assert StockAlert.objects.get().notified_at is not None


def test_a_broker_outage_never_fails_the_stock_change(
    organization, admin_user, stocked, monkeypatch, django_capture_on_commit_callbacks
):
    product = stocked(5, organization=organization, low_stock_threshold=5)

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("redis unreachable")

    monkeypatch.setattr(tasks.update_stock_alerts, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        record_movement(product=product, movement_type=OUT, quantity=1, user=admin_user)

    product.refresh_from_db()
    assert product.quantity == 4


def test_the_digest_closes_alerts_of_products_that_recovered_without_a_movement(
    organization, manager_user, stocked
):
    product = stocked(2, organization=organization, low_stock_threshold=5)
    services.update_stock_alerts(organization_id=organization.pk, product_ids=[product.pk])
    Product.objects.filter(pk=product.pk).update(low_stock_threshold=1)  # a threshold edit

    services.send_low_stock_digest(organization_id=organization.pk)

    assert StockAlert.objects.get().closed_at is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_notifying_at_once_send_one_email(monkeypatch):
    from tests.factories import OrganizationFactory

    organization = OrganizationFactory()
    UserFactory(organization=organization, role=Role.MANAGER)
    product = ProductFactory(organization=organization, low_stock_threshold=3)
    services.update_stock_alerts(organization_id=organization.pk, product_ids=[product.pk])
    real_send = EmailMultiAlternatives.send

    def slow_send(self, fail_silently=False):
        time.sleep(0.5)  # hold the lock while the other worker looks
        return real_send(self, fail_silently)

    monkeypatch.setattr(EmailMultiAlternatives, "send", slow_send)
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(services.notify_low_stock_crossings(organization_id=organization.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert len(mail.outbox) == 1
    assert sum(result is not None for result in results) == 1
    assert AlertLog.objects.count() == 1


# --- History: /api/alerts/ -------------------------------------------------------------------


def _log(organization, **fields):
    return AlertLog.objects.create(
        organization=organization,
        kind=fields.pop("kind", AlertLog.Kind.DAILY_DIGEST),
        subject="s",
        **fields,
    )


def test_alert_history_lists_sent_alerts_newest_first(
    admin_client, sales_client, organization, other_organization
):
    first = _log(organization, recipients=["a@example.com"], low_stock_count=2, expired_count=1)
    second = _log(organization, recipients=["b@example.com"], low_stock_count=1)
    _log(other_organization, recipients=["rival@example.com"], low_stock_count=9)

    response = sales_client.get("/api/alerts/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [second.pk, first.pk]
    row = body["results"][1]
    assert set(row) == {"id", "created_at", "recipients", "low_stock_count", "expired_count"}
    assert row["recipients"] == ["a@example.com"]
    assert (row["low_stock_count"], row["expired_count"]) == (2, 1)
    assert row["created_at"].endswith("Z")


def test_alert_history_is_private_to_the_organization(
    admin_client, other_admin_client, organization, api_client
):
    log = _log(organization, recipients=["a@example.com"])

    assert admin_client.get(f"/api/alerts/{log.pk}/").status_code == 200
    assert other_admin_client.get(f"/api/alerts/{log.pk}/").status_code == 404
    assert other_admin_client.get("/api/alerts/").json()["count"] == 0
    assert api_client.get("/api/alerts/").status_code == 401
    assert admin_client.get("/api/alerts/abc/").status_code == 404
    assert admin_client.post("/api/alerts/", {}).status_code == 405
    assert admin_client.delete(f"/api/alerts/{log.pk}/").status_code == 405


def test_alert_history_query_count_is_constant(
    admin_client, organization, settings, django_assert_max_num_queries
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    for i in range(30):
        _log(organization, recipients=[f"m{i}@example.com"], low_stock_count=i)

    # authentication, permission check (groups and permissions), count, page
    with django_assert_max_num_queries(6):
        response = admin_client.get("/api/alerts/?page_size=100")
    assert response.json()["count"] == 30
