"""A change the shared cache could not be told about is recorded in the database, and every
process reads that record before it trusts a cached value (core.cache.database_epoch; issue 21,
2). tests/deploy/test_outages.py has the real outage: two nodes, a Redis that keeps its data."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.db import transaction

from core import cache as versioned
from core.models import MissedInvalidation
from tests.factories import UserFactory
from users.models import Role, User
from users.selectors import signed_in_key, signed_in_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_cache():
    cache = caches["default"]
    if not hasattr(cache, "move_version_on"):
        pytest.skip("needs Redis (set REDIS_URL=redis://...)")
    return cache


@pytest.fixture
def clock(monkeypatch):
    """This process's monotonic clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(versioned.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(versioned, "_reading", {"epoch": None, "read_at": float("-inf")})
    return now


@pytest.fixture
def redis_unreachable(shared_cache, monkeypatch):
    """Moving a version on fails, as it does while Redis is unreachable from this process."""
    monkeypatch.setattr(type(shared_cache), "move_version_on", lambda self, key: False)


def test_a_move_that_fails_is_recorded_in_the_changes_own_transaction(redis_unreachable):
    with pytest.raises(RuntimeError), transaction.atomic():
        versioned.changed("something")
        assert MissedInvalidation.objects.count() == 1
        raise RuntimeError("the change rolls back")
    assert not MissedInvalidation.objects.exists()  # ... and its record with it

    with transaction.atomic():
        versioned.changed("something")
    assert MissedInvalidation.objects.count() == 1


def test_a_value_cached_before_a_missed_change_is_used_by_no_process_after_a_second(
    shared_cache, clock, organization
):
    """Another node demoted the manager while Redis was unreachable from it: its version never
    moved, but the record did. This process holds its reading at most a second."""
    mike = UserFactory(username="mike", organization=organization, role=Role.MANAGER)
    assert signed_in_user(mike.pk).role == "manager"  # cached, at the epoch read now
    with transaction.atomic():  # what the other node committed (no signal: no version moved)
        sales = Group.objects.get(name=Role.SALES)
        User.groups.through.objects.filter(user=mike).update(group=sales)
        MissedInvalidation.objects.create()

    clock[0] += versioned.EPOCH_RECHECK_SECONDS / 2
    assert signed_in_user(mike.pk).role == "manager"  # the reading from before: at most 1 s
    clock[0] += versioned.EPOCH_RECHECK_SECONDS
    assert signed_in_user(mike.pk).role == "sales"
    assert versioned.cached_version(signed_in_key(mike.pk))[0].role == "sales"


def test_a_process_that_sees_redis_fail_reads_the_record_again(shared_cache, clock):
    versioned.database_epoch()
    MissedInvalidation.objects.create()  # another node's
    assert versioned.database_epoch() == 0  # this process's reading, still fresh

    shared_cache._went_down(ConnectionError("Redis unreachable"))
    shared_cache._down_until = 0.0  # ... and answers again

    assert versioned.database_epoch() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_users_change_recorded_as_missed_answers_once_every_reading_is_older(
    redis_unreachable, monkeypatch, organization
):
    """`settle`: after the commit, the change waits out every node's reading of the epoch
    from before it, so no node trusts a cached role after the answer."""
    waited = []
    monkeypatch.setattr(versioned.time, "sleep", waited.append)
    mike = UserFactory(username="mike", organization=organization, role=Role.MANAGER)
    waited.clear()
    before = MissedInvalidation.objects.count()

    with transaction.atomic():
        mike.first_name = "Michael"
        mike.save()
        assert waited == []  # not before the commit
    assert waited == [versioned.EPOCH_RECHECK_SECONDS]
    assert MissedInvalidation.objects.count() == before + 1


def test_folding_the_records_keeps_the_epoch(clock, monkeypatch):
    monkeypatch.setattr(versioned, "EPOCH_FOLD_ROWS", 5)
    MissedInvalidation.objects.bulk_create(MissedInvalidation() for _ in range(7))
    assert versioned.database_epoch() == 7

    assert MissedInvalidation.objects.count() == 1  # folded
    clock[0] += 2 * versioned.EPOCH_RECHECK_SECONDS
    assert versioned.database_epoch() == 7
    MissedInvalidation.objects.create()
    clock[0] += 2 * versioned.EPOCH_RECHECK_SECONDS
    assert versioned.database_epoch() == 8
