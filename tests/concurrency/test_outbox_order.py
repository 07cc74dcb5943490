"""The outbox's consumers on PostgreSQL with real threads: an event whose transaction commits
after a later-numbered one is never skipped, and concurrent changes reach every consumer once.

Each test commits for real (`transaction=True`); a writer is held open (its event written, not
committed) while another writer commits and the consumer runs."""

import threading

import pytest
from django.db import connection, transaction

from core import events
from core.events import consume, emit
from core.models import Event
from stock.services import record_movement
from tests.factories import ProductFactory
from tests.support.concurrency import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def reader(consumer: str):
    seen: list[int] = []

    def read() -> int:
        return consume(
            consumer=consumer, apply=lambda batch: seen.extend(e.pk for e in batch), types=None
        )

    return seen, read


def test_an_event_committed_after_a_later_one_is_not_skipped(organization, monkeypatch):
    """A writes its event first (the lower id and transaction id) but commits last. Without
    the horizon (the oldest running transaction bounds what a consumer reads), the consumer
    read B's event, moved its cursor past A's and never saw it."""
    monkeypatch.setattr(events, "SETTLE_WAIT", 0)  # the consumer does not wait for A
    written, release = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                emit(organization_id=organization.pk, type="stock.changed", data={"who": "A"})
                written.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert written.wait(timeout=30)
    emit(organization_id=organization.pk, type="stock.changed", data={"who": "B"})  # committed
    seen, read = reader("test")
    read()  # A is still open: B waits behind it
    assert seen == []
    release.set()
    thread.join(timeout=30)
    read()

    committed = list(Event.objects.order_by("id").values_list("pk", flat=True))
    assert len(committed) == 2
    assert seen == committed  # both, each once, in the order they were written


def test_concurrent_stock_changes_reach_each_consumer_once(organization, manager_user):
    """Twelve threads moving stock of two products while two consumers read the outbox:
    every committed event reaches each consumer exactly once."""
    products = [ProductFactory(organization=organization, sku=f"P{n}") for n in range(2)]
    first, read_first = reader("first")
    second, read_second = reader("second")

    def move(n):
        return lambda: record_movement(
            product=products[n % 2], movement_type="IN", quantity=1 + n % 3, user=manager_user
        )

    def keep_reading(read):
        def run():
            for _ in range(20):
                read()
            return True

        return run

    calls = [move(n) for n in range(40)] + [keep_reading(read_first), keep_reading(read_second)]
    results = run_concurrently(calls)

    assert not [r for r in results if isinstance(r, Exception)], results
    read_first()
    read_second()
    committed = sorted(Event.objects.values_list("pk", flat=True))
    assert Event.objects.filter(type="stock.changed").count() == 40
    assert sorted(first) == committed and sorted(second) == committed
