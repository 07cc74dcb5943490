"""Low-stock alerts: the daily digest, crossings from the ledger's outbox, history, retries."""

import datetime
import smtplib
import socket
import threading
import time

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import CommandError, call_command
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from alerts import services, tasks
from alerts.models import AlertLog, StockAlert
from core.dates import local_today
from core.events import pending
from inventory.models import Product
from stock.models import StockMovement
from stock.services import record_movement
from tests.factories import ProductFactory, SupplierFactory, UserFactory
from users.models import Role

IN, OUT = StockMovement.MovementType.IN, StockMovement.MovementType.OUT


@pytest.fixture(autouse=True)
def _at_noon(clock):
    """The hourly digest goes out once an organization's digest hour (07:00 local) has come:
    these tests run at noon UTC, whatever the hour the suite runs at."""


@pytest.fixture
def shop(organization, other_organization, admin_user, manager_user, stocked):
    """Corner Shop (a manager, an admin) and Rival Shop (admins only), with problems to report."""
    yesterday = local_today(None) - datetime.timedelta(days=1)
    UserFactory(organization=organization, role=Role.MANAGER, email="night@example.com")
    UserFactory(organization=organization, role=Role.MANAGER, is_active=False, email="gone@x.io")
    UserFactory(organization=organization, role=Role.MANAGER, email="")
    UserFactory(organization=organization, role=Role.SALES, email="seller@example.com")
    rival_admin = UserFactory(
        organization=other_organization, role=Role.ADMIN, email="boss@rival.example"
    )
    products = {
        "tea": stocked(2, organization=organization, sku="TEA-1", name="Green tea",
                       low_stock_threshold=5,
                       supplier=SupplierFactory(organization=organization, name="Leaf & Co")),
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
    # SKU, name, quantity, available, threshold, supplier
    assert "TEA-1 | Green tea | 2 | 2 | 0 | 5 | Leaf & Co" in corner.body  # 0 on order
    assert "Expired (1 product, 80.00 USD at price):" in corner.body
    assert (
        f"YOG-1 | Yoghurt | - | 8 | 80.00 USD | {shop['yesterday'].isoformat()} | -" in corner.body
    )
    for absent in ("FINE", "ARCH", "PARENT", "RIV-1"):
        assert absent not in corner.body
    html, mimetype = corner.alternatives[0]
    assert mimetype == "text/html"
    assert (
        "<td>TEA-1</td><td>Green tea</td><td>2</td><td>2</td><td>0</td><td>5</td>"
        "<td>Leaf &amp; Co</td>" in html
    )
    assert f"<td>{shop['yesterday'].isoformat()}</td>" in html
    # An organization without managers: its admins.
    rival = _emails_to("boss@rival.example")[0]
    assert rival.to == ["boss@rival.example"]
    assert "RIV-1 | Rival widget | 0 | 0 | 0 | 0 | -" in rival.body

    corner_log = AlertLog.objects.get(organization=organization)
    assert corner_log.kind == AlertLog.Kind.DIGEST
    assert corner_log.sent_at is not None
    assert sorted(corner_log.recipients) == sorted([manager_user.email, "night@example.com"])
    assert (corner_log.low_stock_count, corner_log.expired_count) == (1, 1)
    assert AlertLog.objects.get(organization=other_organization).recipients == [
        "boss@rival.example"
    ]


def test_one_digest_per_organization_and_day_however_often_the_check_runs(
    shop, organization, eager_celery, capsys, clock
):
    tasks.check_low_stock.delay()
    tasks.check_low_stock.delay()
    call_command("check_low_stock")

    assert AlertLog.objects.filter(organization=organization).count() == 1
    assert len([m for m in mail.outbox if "Corner Shop" in m.subject]) == 1
    assert "0 low-stock email(s) sent" in capsys.readouterr().out

    # The next day it repeats everything still low; --force sends again the same day.
    clock.shift(datetime.timedelta(days=1))
    tasks.check_low_stock.delay()
    call_command("check_low_stock", "--force")
    corner = [m for m in mail.outbox if "Corner Shop" in m.subject]
    assert len(corner) == 3
    assert all("TEA-1" in m.body for m in corner)


def test_the_database_allows_one_unforced_digest_per_organization_and_day(organization):
    fields = {"organization": organization, "kind": AlertLog.Kind.DIGEST, "subject": "s"}
    AlertLog.objects.create(digest_date=local_today(None), **fields)
    AlertLog.objects.create(digest_date=local_today(None), forced=True, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertLog.objects.create(digest_date=local_today(None), **fields)


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


def _lot(product, code, quantity, expires):
    record_movement(
        product=product,
        movement_type=IN,
        quantity=quantity,
        user=None,
        lot_code=code,
        expiration_date=expires,
    )


def test_digest_lists_expired_and_expiring_lots_one_by_one(
    organization, manager_user, stocked, settings, eager_celery
):
    """Only expiry to report (nothing low) is still a digest; a lot-tracked product's lots are
    listed one by one, with their own quantity and date."""
    settings.ALERT_EXPIRY_DAYS = 7
    today = local_today(None)
    yoghurt = ProductFactory(
        organization=organization, sku="YOG-1", name="Yoghurt", track_lots=True
    )
    _lot(yoghurt, "L-OLD", 4, today - datetime.timedelta(days=2))
    _lot(yoghurt, "L-SOON", 6, today + datetime.timedelta(days=3))
    _lot(yoghurt, "L-FRESH", 24, today + datetime.timedelta(days=30))
    stocked(
        5,
        organization=organization,
        sku="MILK",
        name="Milk",
        expiration_date=today + datetime.timedelta(days=7),
    )
    stocked(
        5,
        organization=organization,
        sku="LATER",
        expiration_date=today + datetime.timedelta(days=8),
    )

    assert tasks.check_low_stock.delay().get() == [organization.pk]

    (email,) = mail.outbox
    assert email.subject == (
        f"[Stockroom] Corner Shop: 0 low-stock and 1 expired product(s), 2 expiring within "
        f"7 day(s) on {today.isoformat()}"
    )
    soon = (today + datetime.timedelta(days=3)).isoformat()
    assert "Expired (1 product, 40.00 USD at price):" in email.body
    assert (
        f"YOG-1 | Yoghurt | L-OLD | 4 | 40.00 USD | "
        f"{(today - datetime.timedelta(days=2)).isoformat()}" in email.body
    )
    assert "Expiring within 7 days (2 products):" in email.body
    section = email.body[email.body.index("Expiring within") :]
    assert section.index(f"YOG-1 | Yoghurt | L-SOON | 6 | 60.00 USD | {soon}") < section.index(
        "MILK | Milk | - | 5 | 50.00 USD"
    )
    assert "L-FRESH" not in email.body and "LATER" not in email.body
    html = email.alternatives[0][0]
    assert f"<td>L-SOON</td><td>6</td><td>60.00 USD</td><td>{soon}</td>" in html


def test_a_capped_digest_says_when_it_left_lots_out(organization, manager_user, settings):
    settings.ALERT_EMAIL_MAX_ROWS = 2
    yoghurt = ProductFactory(organization=organization, sku="YOG-1", track_lots=True)
    for n in range(3):
        _lot(yoghurt, f"L-{n}", 1, local_today(None) + datetime.timedelta(days=n + 1))

    services.send_low_stock_digest(organization_id=organization.pk)

    body = mail.outbox[0].body
    assert "L-0" in body and "L-1" in body and "L-2" not in body
    assert "(the first 2 rows; all 1 product: /api/products/?expires_within=7)" in body


def test_management_command_runs_the_check_at_once(shop, organization, capsys):
    call_command("check_low_stock")

    assert len(mail.outbox) == 2
    assert "2 low-stock email(s) sent" in capsys.readouterr().out
    assert AlertLog.objects.filter(kind=AlertLog.Kind.DIGEST, sent_at__isnull=False).count() == 2


def refuse_to_send(self, fail_silently=False):
    raise smtplib.SMTPServerDisconnected("mail server down")


def test_a_failed_digest_fails_the_command_loudly_and_is_sent_once_by_a_later_sweep(
    shop, organization, monkeypatch, capsys
):
    with monkeypatch.context() as patch:
        patch.setattr(EmailMultiAlternatives, "send", refuse_to_send)
        with pytest.raises(CommandError, match="Sending failed"):
            call_command("check_low_stock")
    assert "sending failed" in capsys.readouterr().err
    assert mail.outbox == []
    assert not AlertLog.objects.filter(sent_at__isnull=False).exists()  # listed nowhere yet

    assert services.deliver_stock_alerts() == 0  # backing off: not due yet
    AlertLog.objects.update(next_attempt_at=timezone.now())
    assert services.deliver_stock_alerts() == 2
    assert services.deliver_stock_alerts() == 0
    call_command("check_low_stock")  # today's digests are written: none twice
    assert len(mail.outbox) == 2
    assert AlertLog.objects.filter(sent_at__isnull=False).count() == 2


def test_failed_sends_back_off_longer_each_time(organization, manager_user, stocked, monkeypatch):
    stocked(0, organization=organization, low_stock_threshold=1)
    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse_to_send)
    log = services.send_low_stock_digest(organization_id=organization.pk)

    delays = []
    for _ in range(4):
        log.refresh_from_db()
        delays.append(log.next_attempt_at - timezone.now())
        AlertLog.objects.filter(pk=log.pk).update(next_attempt_at=timezone.now())
        services.send_alert(log_id=log.pk)
    minutes = [round(delay.total_seconds() / 60) for delay in delays]
    assert minutes == [1, 2, 4, 8]
    log.refresh_from_db()
    assert (log.attempts, log.sent_at) == (5, None)


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
    assert "| 5 | 5 | - | 5 | -" in mail.outbox[0].body
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
    logs = AlertLog.objects.filter(organization=organization, kind=AlertLog.Kind.CROSSING)
    assert [(log.low_stock_count, log.recipients) for log in logs] == [
        (1, [manager_user.email]),
        (1, [manager_user.email]),
    ]
    assert pending(consumer="alerts", types=("stock.low", "stock.recovered"))[1] == []


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


def test_every_crossing_is_owed_one_notification_even_if_it_recovered_before_delivery(
    organization, manager_user, stocked
):
    """The worker was stopped: one product crossed and recovered, another crossed twice."""
    once = stocked(5, organization=organization, sku="ONCE", low_stock_threshold=2)
    twice = stocked(5, organization=organization, sku="TWICE", low_stock_threshold=2)
    record_movement(product=once, movement_type=OUT, quantity=4, user=manager_user)  # low
    record_movement(product=once, movement_type=IN, quantity=9, user=manager_user)  # recovered
    for _ in range(2):
        record_movement(product=twice, movement_type=OUT, quantity=4, user=manager_user)  # low
        record_movement(product=twice, movement_type=IN, quantity=4, user=manager_user)

    assert mail.outbox == []  # nothing delivered: no commit callbacks ran
    services.deliver_stock_alerts()
    services.deliver_stock_alerts()

    (email,) = mail.outbox
    rows = [line for line in email.body.splitlines() if line.startswith(("ONCE", "TWICE"))]
    assert sorted(row.split(" |")[0] for row in rows) == ["ONCE", "TWICE", "TWICE"]
    assert StockAlert.objects.filter(notified_at__isnull=True).count() == 0
    assert StockAlert.objects.filter(closed_at__isnull=True).count() == 0


def test_delivering_twice_notifies_once(organization, manager_user, stocked):
    low = stocked(3, organization=organization, low_stock_threshold=2)
    record_movement(product=low, movement_type=OUT, quantity=2, user=manager_user)

    assert services.deliver_stock_alerts() == 1
    assert services.deliver_stock_alerts() == 0
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


def test_a_crossing_email_that_fails_is_sent_later_exactly_once(
    organization, manager_user, stocked, monkeypatch
):
    low = stocked(3, organization=organization, sku="LOST-NOT", low_stock_threshold=2)
    record_movement(product=low, movement_type=OUT, quantity=3, user=manager_user)
    with monkeypatch.context() as patch:
        patch.setattr(EmailMultiAlternatives, "send", refuse_to_send)
        assert services.deliver_stock_alerts() == 0
    log = AlertLog.objects.get()
    assert (log.sent_at, log.attempts) == (None, 1)
    assert StockAlert.objects.get().log == log

    AlertLog.objects.update(next_attempt_at=timezone.now())  # the backoff has passed
    assert services.deliver_stock_alerts() == 1
    assert services.deliver_stock_alerts() == 0
    (email,) = mail.outbox
    assert "LOST-NOT" in email.body
    assert AlertLog.objects.get().sent_at is not None


def test_a_worker_that_dies_mid_send_repeats_only_that_email(
    organization, manager_user, stocked, monkeypatch
):
    """Killed after the mail server took the email, before recording it: after the lease,
    that one email goes again, and the next crossing gets its own email, once."""
    first = stocked(3, organization=organization, sku="FIRST", low_stock_threshold=2)
    record_movement(product=first, movement_type=OUT, quantity=3, user=manager_user)
    real_update = services.AlertLog.objects.filter

    def die_after_sending(*args, **kwargs):
        queryset = real_update(*args, **kwargs)
        if mail.outbox and kwargs.keys() == {"pk"}:
            raise SystemExit("worker killed")  # between the send and `sent_at`
        return queryset

    with monkeypatch.context() as patch:
        patch.setattr(services.AlertLog.objects, "filter", die_after_sending)
        with pytest.raises(SystemExit):
            services.deliver_stock_alerts()
    assert len(mail.outbox) == 1 and AlertLog.objects.get().sent_at is None

    second = stocked(3, organization=organization, sku="SECOND", low_stock_threshold=2)
    record_movement(product=second, movement_type=OUT, quantity=3, user=manager_user)
    services.deliver_stock_alerts()  # the first is leased: only the second goes
    assert [("FIRST" in m.body, "SECOND" in m.body) for m in mail.outbox] == [
        (True, False),
        (False, True),
    ]
    AlertLog.objects.filter(sent_at__isnull=True).update(next_attempt_at=timezone.now())
    services.deliver_stock_alerts()  # the lease ran out: the first is repeated, once
    assert [("FIRST" in m.body, "SECOND" in m.body) for m in mail.outbox][2:] == [(True, False)]
    assert not AlertLog.objects.filter(sent_at__isnull=True).exists()


def test_a_broker_outage_never_fails_the_stock_change_and_loses_no_crossing(
    organization, manager_user, stocked, monkeypatch, django_capture_on_commit_callbacks
):
    from core import broker

    product = stocked(5, organization=organization, sku="KEPT", low_stock_threshold=4)

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("redis unreachable")

    monkeypatch.setattr(tasks.deliver_stock_alerts, "delay", broker_down)
    monkeypatch.setattr(broker, "_down_until", 0.0)
    with django_capture_on_commit_callbacks(execute=True):
        record_movement(product=product, movement_type=OUT, quantity=1, user=manager_user)

    product.refresh_from_db()
    assert product.quantity == 4
    assert mail.outbox == []
    waiting = pending(consumer="alerts", types=("stock.low",))[1]
    assert [event.data["sku"] for event in waiting] == ["KEPT"]  # waiting in the outbox

    services.deliver_stock_alerts()  # the periodic sweep, once Redis is back
    services.deliver_stock_alerts()
    assert len(mail.outbox) == 1 and "KEPT" in mail.outbox[0].body


def test_a_database_outage_while_delivering_loses_nothing(
    organization, manager_user, stocked, monkeypatch
):
    product = stocked(5, organization=organization, sku="DB-DOWN", low_stock_threshold=4)
    record_movement(product=product, movement_type=OUT, quantity=1, user=manager_user)

    def database_down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    with monkeypatch.context() as patch:
        patch.setattr(services, "notify_crossings", database_down)
        with pytest.raises(OperationalError):
            services.deliver_stock_alerts()
    assert mail.outbox == []
    assert OperationalError in tasks.deliver_stock_alerts.autoretry_for

    services.deliver_stock_alerts()
    assert len(mail.outbox) == 1 and "DB-DOWN" in mail.outbox[0].body


def test_threshold_edits_record_crossings_and_recoveries(
    organization, manager_user, manager_client, stocked
):
    product = stocked(5, organization=organization, sku="EDIT", low_stock_threshold=2)
    url = f"/api/products/{product.pk}/"
    assert manager_client.patch(url, {"low_stock_threshold": 9}).status_code == 200  # went low
    services.deliver_stock_alerts()
    assert manager_client.patch(url, {"low_stock_threshold": 1}).status_code == 200  # recovered
    services.deliver_stock_alerts()

    alert = StockAlert.objects.get()
    assert (alert.quantity, alert.low_stock_threshold, alert.closed_at is not None) == (5, 9, True)
    assert len(mail.outbox) == 1


def test_restoring_a_low_product_reopens_its_alert(organization, admin_user, admin_client, stocked):
    """Archiving closes a low product's alert (it is low no more); restoring it, still at or
    below its threshold, is a crossing: the alert opens again and the managers hear of it. The
    restore used to skip the low-stock watch: `is_low_stock: true` and no alert."""
    product = stocked(3, organization=organization, sku="BACK", low_stock_threshold=2)
    record_movement(product=product, movement_type=OUT, quantity=3, user=admin_user)  # low
    assert admin_client.delete(f"/api/products/{product.pk}/").status_code == 204  # archived
    services.deliver_stock_alerts()
    assert StockAlert.objects.get(product=product).closed_at is not None

    response = admin_client.post(f"/api/products/{product.pk}/restore/")
    services.deliver_stock_alerts()

    assert response.status_code == 200 and response.json()["is_low_stock"] is True
    reopened = StockAlert.objects.get(product=product, closed_at__isnull=True)
    assert reopened.notified_at is not None
    assert len(mail.outbox) == 2  # the first crossing, and this one


class _SilentSMTPServer:
    """A mail server that accepts connections and never says a word."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(client)

    def close(self):
        self.socket.close()
        for client in self.accepted:
            client.close()


@pytest.fixture
def silent_smtp(settings):
    server = _SilentSMTPServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 1
    yield server
    server.close()


def test_an_smtp_server_that_never_answers_times_out_and_the_email_waits(
    organization, manager_user, stocked, silent_smtp
):
    product = stocked(5, organization=organization, sku="SILENT", low_stock_threshold=4)
    record_movement(product=product, movement_type=OUT, quantity=1, user=manager_user)

    started = time.monotonic()
    assert services.deliver_stock_alerts() == 0
    assert time.monotonic() - started < 5  # bounded by EMAIL_TIMEOUT, not a hung worker
    assert silent_smtp.accepted
    log = AlertLog.objects.get()
    assert (log.sent_at, log.attempts) == (None, 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_hanging_smtp_server_slows_no_stock_change(monkeypatch):
    """While one worker waits on SMTP, the product it notifies about keeps moving: no lock
    is held across a send."""
    from tests.factories import OrganizationFactory

    organization = OrganizationFactory()
    manager = UserFactory(organization=organization, role=Role.MANAGER)
    product = ProductFactory(organization=organization, low_stock_threshold=4)
    record_movement(product=product, movement_type=IN, quantity=5, user=manager)
    record_movement(product=product, movement_type=OUT, quantity=1, user=manager)  # low
    sending, release = threading.Event(), threading.Event()

    def hanging_send(self, fail_silently=False):
        sending.set()
        release.wait(timeout=20)

    monkeypatch.setattr(EmailMultiAlternatives, "send", hanging_send)
    worker = threading.Thread(target=lambda: (services.deliver_stock_alerts(), connection.close()))
    worker.start()
    try:
        assert sending.wait(timeout=10)
        started = time.monotonic()
        record_movement(product=product, movement_type=IN, quantity=5, user=manager)
        record_movement(product=product, movement_type=OUT, quantity=6, user=manager)
        elapsed = time.monotonic() - started
    finally:
        release.set()
        worker.join(timeout=20)
    assert elapsed < 2, f"stock changes waited {elapsed:.1f} s on the email"
    product.refresh_from_db()
    assert product.quantity == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_at_once_send_one_email(monkeypatch):
    from tests.factories import OrganizationFactory

    organization = OrganizationFactory()
    manager = UserFactory(organization=organization, role=Role.MANAGER)
    product = ProductFactory(organization=organization, low_stock_threshold=3)
    record_movement(product=product, movement_type=IN, quantity=4, user=manager)
    record_movement(product=product, movement_type=OUT, quantity=2, user=manager)
    real_send = EmailMultiAlternatives.send

    def slow_send(self, fail_silently=False):
        time.sleep(0.5)  # while the other worker looks
        return real_send(self, fail_silently)

    monkeypatch.setattr(EmailMultiAlternatives, "send", slow_send)
    barrier = threading.Barrier(4)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(services.deliver_stock_alerts())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert len(mail.outbox) == 1
    assert sorted(results) == [0, 0, 0, 1]
    assert AlertLog.objects.count() == 1
    assert StockAlert.objects.count() == 1


# --- History: /api/alerts/ -------------------------------------------------------------------


def _log(organization, **fields):
    return AlertLog.objects.create(
        organization=organization,
        kind=fields.pop("kind", AlertLog.Kind.CROSSING),
        subject=fields.pop("subject", "s"),
        sent_at=fields.pop("sent_at", timezone.now()),
        **fields,
    )


def test_alert_history_lists_sent_alerts_newest_first(
    admin_client, sales_client, organization, other_organization
):
    first = _log(
        organization,
        kind=AlertLog.Kind.DIGEST,
        subject="[Stockroom] Corner Shop: 2 low-stock and 1 expired product(s)",
        recipients=["a@example.com"],
        low_stock_count=2,
        expired_count=1,
    )
    second = _log(organization, recipients=["b@example.com"], low_stock_count=1)
    _log(organization, recipients=["c@example.com"], sent_at=None)  # written, not sent yet
    _log(other_organization, recipients=["rival@example.com"], low_stock_count=9)

    response = sales_client.get("/api/alerts/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [second.pk, first.pk]
    row = body["results"][1]
    assert set(row) == {
        "id",
        "kind",
        "subject",
        "created_at",
        "recipients",
        "low_stock_count",
        "expired_count",
    }
    assert (row["kind"], body["results"][0]["kind"]) == ("digest", "crossing")
    assert row["subject"] == "[Stockroom] Corner Shop: 2 low-stock and 1 expired product(s)"
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
