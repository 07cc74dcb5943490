"""Webhooks (API.md, Webhooks): subscriptions, signed deliveries after commit from the one
outbox, retries with the same event id, redelivery and ping, tenancy."""

import datetime
import json

import pytest
from django.db import transaction
from django.utils import timezone

from core.models import AuditEntry, Event
from stock.services import record_movement
from tests.factories import ProductFactory
from tests.support.webhooks import Receiver, signature_is_valid
from webhooks import secrets, services, tasks
from webhooks.models import Delivery, Webhook

pytestmark = pytest.mark.django_db

ALL_EVENTS = [
    "product.created",
    "product.updated",
    "product.archived",
    "stock.low",
    "stock.recovered",
    "stock.changed",
    "sales_order.confirmed",
    "sales_order.fulfilled",
    "sales_order.cancelled",
    "purchase_order.received",
]


@pytest.fixture
def private_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    return settings


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def subscribe(client, url, events=ALL_EVENTS, **fields):
    return client.post("/api/webhooks/", {"url": url, "events": events, **fields}, format="json")


# --- Subscriptions ----------------------------------------------------------------------------


def test_an_admin_subscribes_and_sees_the_secret_once(admin_client, private_allowed, receiver):
    answer = subscribe(admin_client, receiver.url, ["stock.changed", "product.created"])

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert set(body) == {"id", "url", "events", "is_active", "secret", "created_at"}
    assert body["events"] == ["product.created", "stock.changed"]
    assert body["is_active"] is True
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 30
    shown = admin_client.get(f"/api/webhooks/{body['id']}/").json()
    assert "secret" not in shown
    assert "secret" not in admin_client.get("/api/webhooks/").json()["results"][0]
    # Stored encrypted (it must sign), never in clear.
    stored = Webhook.objects.get()
    assert body["secret"] not in stored.encrypted_secret
    assert secrets.decrypt(stored.encrypted_secret) == body["secret"]


def test_a_secret_of_ones_own_and_a_new_one_by_patch(admin_client, private_allowed, receiver):
    created = subscribe(admin_client, receiver.url, secret="my-own-secret-0123456789").json()
    assert created["secret"] == "my-own-secret-0123456789"

    answer = admin_client.patch(
        f"/api/webhooks/{created['id']}/",
        {"secret": "another-secret-0123456789", "is_active": False},
        format="json",
    )

    assert answer.status_code == 200
    assert "secret" not in answer.json() and answer.json()["is_active"] is False
    stored = Webhook.objects.get()
    assert secrets.decrypt(stored.encrypted_secret) == "another-secret-0123456789"


def test_only_admins_manage_webhooks(manager_client, sales_client, admin_client, private_allowed):
    hook, _ = services.create_webhook(
        organization=Webhook._meta.get_field("organization").related_model.objects.get(),
        url="http://127.0.0.1:9/hook",
        events=["stock.changed"],
    )
    for client in (manager_client, sales_client):
        assert client.get("/api/webhooks/").status_code == 403
        assert client.get(f"/api/webhooks/{hook.pk}/").status_code == 403
        assert subscribe(client, "http://127.0.0.1:9/x").status_code == 403
        assert client.post(f"/api/webhooks/{hook.pk}/ping/").status_code == 403
        assert client.get(f"/api/webhooks/{hook.pk}/deliveries/").status_code == 403
        assert client.delete(f"/api/webhooks/{hook.pk}/").status_code == 403
    assert Webhook.objects.count() == 1 and not Delivery.objects.exists()


@pytest.mark.parametrize(
    "url, events, field",
    [
        ("http://hooks.example.com/x", ["stock.changed"], "url"),  # https only
        ("https://127.0.0.1/x", ["stock.changed"], "url"),
        ("https://10.1.2.3/x", ["stock.changed"], "url"),
        ("https://[::1]/x", ["stock.changed"], "url"),
        ("ftp://example.com/x", ["stock.changed"], "url"),
        ("not a url", ["stock.changed"], "url"),
        ("https://93.184.216.34/x", ["stock.moved"], "events"),
        ("https://93.184.216.34/x", [], "events"),
        ("https://93.184.216.34/x", "stock.changed", "events"),
    ],
)
def test_a_bad_subscription_is_a_400_and_stores_nothing(admin_client, url, events, field):
    answer = subscribe(admin_client, url, events)

    assert answer.status_code == 400
    assert field in answer.json()
    assert not Webhook.objects.exists()


def test_another_organizations_webhooks_are_404(
    admin_client, other_admin_client, private_allowed, receiver
):
    theirs = subscribe(other_admin_client, receiver.url).json()
    services.ping(webhook=Webhook.objects.get(pk=theirs["id"]))
    delivery = Delivery.objects.get()

    assert admin_client.get("/api/webhooks/").json()["count"] == 0
    assert admin_client.get(f"/api/webhooks/{theirs['id']}/").status_code == 404
    assert (
        admin_client.patch(
            f"/api/webhooks/{theirs['id']}/", {"is_active": False}, format="json"
        ).status_code
        == 404
    )
    assert admin_client.get(f"/api/webhooks/{theirs['id']}/deliveries/").status_code == 404
    assert admin_client.post(f"/api/webhooks/{theirs['id']}/ping/").status_code == 404
    redeliver = f"/api/webhooks/{theirs['id']}/deliveries/{delivery.pk}/redeliver/"
    assert admin_client.post(redeliver).status_code == 404
    assert admin_client.delete(f"/api/webhooks/{theirs['id']}/").status_code == 404
    assert Webhook.objects.get().is_active and Delivery.objects.count() == 1


def test_the_webhook_list_and_deliveries_take_constant_queries(
    admin_client, organization, private_allowed, django_assert_max_num_queries
):
    for n in range(3):
        hook, _ = services.create_webhook(
            organization=organization, url=f"http://127.0.0.1:9/{n}", events=["stock.changed"]
        )
    for _ in range(5):
        services.ping(webhook=hook)
    with django_assert_max_num_queries(8):
        assert admin_client.get("/api/webhooks/").json()["count"] == 3
    with django_assert_max_num_queries(8):
        assert admin_client.get(f"/api/webhooks/{hook.pk}/deliveries/").json()["count"] == 5


# --- Deliveries, after commit ------------------------------------------------------------------


def ok(answer) -> bool:
    assert answer.status_code < 300, answer.json()
    return True


def _every_event_type(admin_client, organization):
    """Make each event type happen through the API, as a client would."""
    created = admin_client.post(
        "/api/products/",
        {"sku": "TEA", "name": "Tea", "price": "2.50", "cost_price": "1.20",
         "low_stock_threshold": 5, "quantity": 10},
        format="json",
    ).json()  # fmt: skip
    tea = created["id"]
    assert ok(admin_client.patch(f"/api/products/{tea}/", {"price": "2.75"}, format="json"))
    sold = admin_client.post(
        "/api/sales-orders/",
        {"items": [{"product": tea, "quantity": 6}], "status": "confirmed"},
        format="json",
    ).json()  # 10 - 6 reserved: 4 available, low
    assert ok(
        admin_client.patch(f"/api/sales-orders/{sold['id']}/", {"status": "fulfilled"},
                           format="json")
    )  # fmt: skip
    other = admin_client.post(
        "/api/sales-orders/",
        {"items": [{"product": tea, "quantity": 1}], "status": "confirmed"},
        format="json",
    ).json()
    assert ok(
        admin_client.patch(f"/api/sales-orders/{other['id']}/", {"status": "cancelled"},
                           format="json")
    )  # fmt: skip
    supplier = admin_client.post("/api/suppliers/", {"name": "Leaf Co"}, format="json").json()
    bought = admin_client.post(
        "/api/purchase-orders/",
        {"supplier": supplier["id"], "items": [{"product": tea, "quantity": 20}],
         "status": "received"},
        format="json",
    )  # fmt: skip
    assert bought.status_code == 201, bought.json()  # 24: recovered
    gone = admin_client.post("/api/products/", {"name": "Old", "price": "1.00"}, format="json")
    assert admin_client.delete(f"/api/products/{gone.json()['id']}/").status_code == 204
    return tea


@pytest.mark.django_db(transaction=True)
def test_every_event_type_arrives_once_after_commit_with_a_valid_signature(
    admin_client, organization, private_allowed, receiver, eager_celery
):
    secret = subscribe(admin_client, receiver.url).json()["secret"]

    tea = _every_event_type(admin_client, organization)

    events = receiver.events()
    assert sorted(set(receiver.types())) == sorted(ALL_EVENTS)
    assert len({event["id"] for event in events}) == len(events)  # each once
    assert len(events) == Event.objects.exclude(type="ping").count()
    for request in receiver.requests:
        assert signature_is_valid(request, secret)
        body = json.loads(request["body"])
        assert request["headers"]["X-Stockroom-Event"] == body["type"]
        delivery = Delivery.objects.get(pk=int(request["headers"]["X-Stockroom-Delivery"]))
        assert str(delivery.event.uuid) == body["id"]
        assert body["organization"] == organization.pk
        assert body["created_at"].endswith("Z")
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    # What the payloads carry (docs/api.md documents each).
    by_type = {event["type"]: event["data"] for event in events}
    assert by_type["product.updated"]["price"] == "2.75"
    assert by_type["product.updated"]["changed"] == ["price"]
    assert by_type["stock.low"] == {
        "product": tea, "sku": "TEA", "quantity": 10, "available": 4, "low_stock_threshold": 5,
    }  # fmt: skip
    changed = [event["data"] for event in events if event["type"] == "stock.changed"]
    assert [(data["delta"], data["quantity"]) for data in changed] == [(10, 10), (-6, 4), (20, 24)]
    assert by_type["sales_order.fulfilled"]["lines"] == [
        {"product": tea, "sku": "TEA", "quantity": 6, "unit_price": "2.75"}
    ]
    received = by_type["purchase_order.received"]
    assert (received["status"], received["lines"][0]["quantity"]) == ("received", 20)
    assert received["lines"][0]["unit_cost"] == "1.20"
    assert by_type["product.archived"]["removed"] is True


@pytest.mark.django_db(transaction=True)
def test_a_change_that_rolls_back_sends_nothing(
    organization, manager_user, private_allowed, receiver, eager_celery
):
    hook, _ = services.create_webhook(
        organization=organization, url=receiver.url, events=["stock.changed", "stock.low"]
    )
    tea = ProductFactory(organization=organization, sku="TEA", low_stock_threshold=5)

    with pytest.raises(RuntimeError), transaction.atomic():
        record_movement(product=tea, movement_type="IN", quantity=3, user=manager_user)
        raise RuntimeError("the request failed after the movement")

    assert not Event.objects.exists()
    tasks.sweep_webhooks()
    assert receiver.requests == [] and not Delivery.objects.exists()
    record_movement(product=tea, movement_type="IN", quantity=1, user=manager_user)
    assert receiver.wait_for(1)
    assert receiver.types() == ["stock.changed"]


@pytest.mark.django_db(transaction=True)
def test_a_receiver_answering_500_gets_the_same_event_again_later(
    organization, manager_user, private_allowed, eager_celery
):
    receiver = Receiver(statuses=[500])
    try:
        hook, secret = services.create_webhook(
            organization=organization, url=receiver.url, events=["stock.changed"]
        )
        tea = ProductFactory(organization=organization, sku="TEA")
        record_movement(product=tea, movement_type="IN", quantity=3, user=manager_user)

        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.response_status) == (
            "pending", 1, 500,
        )  # fmt: skip
        assert delivery.next_attempt_at - timezone.now() > datetime.timedelta(seconds=50)
        tasks.sweep_webhooks()  # not due yet: nothing sent again
        assert len(receiver.requests) == 1

        Delivery.objects.update(next_attempt_at=timezone.now())  # the delay has passed
        tasks.sweep_webhooks()

        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.response_status) == (
            "delivered", 2, 200,
        )  # fmt: skip
        first, second = receiver.requests
        assert first["body"] == second["body"]
        assert json.loads(first["body"])["id"] == str(delivery.event.uuid)
        assert first["headers"]["X-Stockroom-Delivery"] == second["headers"]["X-Stockroom-Delivery"]
        assert signature_is_valid(second, secret)
    finally:
        receiver.close()


def test_retries_grow_for_24_hours_then_the_delivery_fails(
    organization, private_allowed, monkeypatch
):
    from webhooks import sender

    hook, _ = services.create_webhook(
        organization=organization, url="http://127.0.0.1:9/hook", events=["stock.changed"]
    )
    calls = []
    monkeypatch.setattr(sender, "post", lambda *a, **k: calls.append(1) or sender.Answer(503, ""))
    delivery = services.ping(webhook=hook)
    delays = []
    for _ in range(20):
        if not services.deliver(delivery_id=delivery.pk):
            delivery.refresh_from_db()
            if delivery.status == "failed":
                break
            delays.append(delivery.next_attempt_at - timezone.now())
            Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    minutes = [round(delay.total_seconds() / 60) for delay in delays]
    assert minutes == [1, 5, 15, 30, 60, 120, 240, 360, 600]
    assert sum(minutes) / 60 < 24
    assert (delivery.status, delivery.attempts, len(calls)) == ("failed", 10, 10)
    assert delivery.next_attempt_at is None


@pytest.mark.django_db(transaction=True)
def test_another_organizations_events_never_reach_a_hook(
    organization, other_organization, manager_user, private_allowed, receiver, eager_celery
):
    services.create_webhook(organization=organization, url=receiver.url, events=["stock.changed"])
    theirs = ProductFactory(organization=other_organization, sku="THEIRS")
    ours = ProductFactory(organization=organization, sku="OURS")

    record_movement(product=theirs, movement_type="IN", quantity=5, user=None)
    record_movement(product=ours, movement_type="IN", quantity=2, user=manager_user)
    tasks.sweep_webhooks()

    assert [event["data"]["sku"] for event in receiver.events()] == ["OURS"]
    assert not Delivery.objects.filter(organization=other_organization).exists()


@pytest.mark.django_db(transaction=True)
def test_only_the_subscribed_event_types_and_active_hooks_get_deliveries(
    organization, manager_user, private_allowed, receiver, eager_celery
):
    services.create_webhook(organization=organization, url=receiver.url, events=["stock.low"])
    paused, _ = services.create_webhook(
        organization=organization, url=receiver.url, events=["stock.changed"], is_active=False
    )
    tea = ProductFactory(organization=organization, sku="TEA", low_stock_threshold=5)
    record_movement(product=tea, movement_type="IN", quantity=10, user=manager_user)
    record_movement(product=tea, movement_type="OUT", quantity=6, user=manager_user)

    assert receiver.types() == ["stock.low"]
    assert not Delivery.objects.filter(webhook=paused).exists()


@pytest.mark.django_db(transaction=True)
def test_ping_and_redeliver_answer_202_and_send(
    admin_client, organization, private_allowed, receiver, eager_celery
):
    created = subscribe(admin_client, receiver.url, ["stock.changed"]).json()

    answer = admin_client.post(f"/api/webhooks/{created['id']}/ping/")

    assert answer.status_code == 202
    assert receiver.types() == ["ping"]
    assert signature_is_valid(receiver.requests[0], created["secret"])
    deliveries = admin_client.get(f"/api/webhooks/{created['id']}/deliveries/").json()
    assert deliveries["count"] == 1
    row = deliveries["results"][0]
    assert set(row) == {
        "id", "event_id", "event", "status", "attempts", "response_status", "last_error",
        "created_at", "delivered_at", "next_attempt_at",
    }  # fmt: skip
    assert (row["event"], row["status"], row["attempts"], row["response_status"]) == (
        "ping", "delivered", 1, 200,
    )  # fmt: skip
    assert row["event_id"] == receiver.events()[0]["id"]

    again = admin_client.post(f"/api/webhooks/{created['id']}/deliveries/{row['id']}/redeliver/")

    assert again.status_code == 202
    assert receiver.types() == ["ping", "ping"]
    assert receiver.events()[0]["id"] == receiver.events()[1]["id"]  # the same event
    assert (
        admin_client.post(f"/api/webhooks/{created['id']}/deliveries/999999/redeliver/").status_code
        == 404
    )
    assert (
        admin_client.post(f"/api/webhooks/{created['id']}/deliveries/abc/redeliver/").status_code
        == 404
    )


@pytest.mark.django_db(transaction=True)
def test_a_redirect_is_not_followed_and_a_slow_receiver_times_out(
    organization, private_allowed, eager_celery, settings
):
    settings.WEBHOOK_TIMEOUT = 1
    redirecting = Receiver(statuses=[302], headers={"Location": "http://127.0.0.1:9/elsewhere"})
    slow = Receiver(delay=3)
    try:
        for receiver in (redirecting, slow):
            hook, _ = services.create_webhook(
                organization=organization, url=receiver.url, events=["stock.changed"]
            )
            services.ping(webhook=hook)
        redirected, timed_out = Delivery.objects.order_by("id")
        assert len(redirecting.requests) == 1  # the Location was not followed
        assert (redirected.status, redirected.response_status) == ("pending", 302)
        assert timed_out.response_status is None and "timed out" in timed_out.last_error
    finally:
        redirecting.close()
        slow.close()


def test_webhook_changes_are_in_the_audit_trail(admin_client, private_allowed, receiver):
    created = subscribe(admin_client, receiver.url, ["stock.changed"]).json()
    admin_client.patch(
        f"/api/webhooks/{created['id']}/",
        {"events": ["stock.low"], "secret": "a-new-secret-0123456789"},
        format="json",
    )
    admin_client.delete(f"/api/webhooks/{created['id']}/")

    rows = list(AuditEntry.objects.filter(object_type="webhook").order_by("id"))
    assert [row.action for row in rows] == ["create", "update", "delete"]
    assert rows[1].changes == {
        "events": [["stock.changed"], ["stock.low"]],
        "secret": [None, "(changed)"],
    }
    assert all(row.username == "alice" for row in rows)
    assert "whsec_" not in json.dumps([row.changes for row in rows])


# --- The admin, through the same services --------------------------------------------------


def test_the_admin_refuses_a_private_url_and_an_unknown_event_on_the_form(owner):
    from django.urls import reverse

    answer = owner.post(
        reverse("admin:webhooks_webhook_add"),
        {"url": "https://127.0.0.1/x", "events": ["stock.changed"], "is_active": "on"},
        secure=True,
    )

    assert answer.status_code == 200  # the form again
    assert "non-public address" in str(answer.context["adminform"].form.errors)
    assert not Webhook.objects.exists()


def test_the_admin_pings_and_redelivers_through_the_services(
    owner,
    organization,
    private_allowed,
    receiver,
    django_capture_on_commit_callbacks,
    eager_celery,
):
    from django.urls import reverse

    hook, _ = services.create_webhook(
        organization=organization, url=receiver.url, events=["stock.changed"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        owner.post(reverse("admin:webhooks_webhook_changelist"),
                   {"action": "ping", "_selected_action": [hook.pk]}, secure=True)  # fmt: skip
    delivery = Delivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        redeliver = {"action": "redeliver", "_selected_action": [delivery.pk]}
        owner.post(reverse("admin:webhooks_delivery_changelist"), redeliver, secure=True)

    assert receiver.types() == ["ping", "ping"]
    assert AuditEntry.objects.filter(object_type="webhook", action="create").exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_sends_its_products_and_import_done_and_a_dry_run_nothing(
    manager_client, organization, private_allowed, receiver, eager_celery
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    services.create_webhook(
        organization=organization, url=receiver.url, events=["import.done", "product.created"]
    )
    data = b"sku,name,price\nMILK-1L,Milk 1 L,1.20\nEGGS-6,Eggs (6),2.50\n"

    def post(dry_run):
        upload = SimpleUploadedFile("products.csv", data, content_type="application/octet-stream")
        answer = manager_client.post(
            "/api/imports/",
            {"file": upload, "kind": "products", "dry_run": dry_run},
            format="multipart",
        )
        assert answer.status_code == 201, answer.json()
        return answer

    assert post("true").json()["status"] == "checked"
    assert receiver.requests == [] and not Event.objects.filter(type="product.created").exists()

    assert post("false").json()["status"] == "done"
    assert sorted(receiver.types()) == ["import.done", "product.created", "product.created"]
    done = next(e["data"] for e in receiver.events() if e["type"] == "import.done")
    assert (done["created"], done["total_rows"], done["file_name"]) == (2, 2, "products.csv")
    assert AuditEntry.objects.filter(object_type="product", action="create").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_completed_stocktake_sends_stocktake_completed_and_its_adjustments(
    admin_client, organization, private_allowed, receiver, eager_celery, stocked
):
    from stock.services import default_location

    tea = stocked(quantity=10, organization=organization, sku="TEA-1")
    services.create_webhook(
        organization=organization, url=receiver.url,
        events=["stocktake.completed", "stock.changed"],
    )  # fmt: skip
    main = default_location(organization_id=organization.pk)
    stocktake = admin_client.post("/api/stocktakes/", {"location": main.pk}, format="json").json()
    counted = admin_client.post(
        f"/api/stocktakes/{stocktake['id']}/counts/",
        {"lines": [{"product": tea.pk, "counted_quantity": 8}]},
        format="json",
    )
    assert counted.status_code == 200, counted.json()
    assert receiver.requests == []  # counting moves nothing

    done = admin_client.post(f"/api/stocktakes/{stocktake['id']}/complete/")

    assert done.status_code == 200, done.json()
    by_type = {event["type"]: event["data"] for event in receiver.events()}
    assert sorted(by_type) == ["stock.changed", "stocktake.completed"]
    assert by_type["stock.changed"]["delta"] == -2
    completed = by_type["stocktake.completed"]
    assert (completed["reference"], completed["variance_quantity"]) == (
        stocktake["reference"], -2,
    )  # fmt: skip
