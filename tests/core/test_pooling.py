"""The connection breaker (core.pooling; issue 21, 6): once the database was found unreachable,
connections are refused at once for DATABASE_BREAKER_SECONDS, then one trial goes through.
tests/deploy/test_outages.py cuts a real PostgreSQL under load."""

import psycopg
import pytest

from core import pooling
from core.pooling import CircuitBreaker, DatabaseDown, is_unreachable


@pytest.fixture
def clock(monkeypatch, settings):
    settings.DATABASE_BREAKER_SECONDS = 2
    now = [100.0]
    monkeypatch.setattr(pooling.time, "monotonic", lambda: now[0])
    return now


def test_open_refuses_at_once_then_admits_one_trial(clock):
    breaker = CircuitBreaker()
    assert breaker.admit() == CircuitBreaker.CLOSED

    breaker.trip()
    assert breaker.is_open
    with pytest.raises(DatabaseDown):
        breaker.admit()
    clock[0] += 2.1
    assert breaker.admit() == CircuitBreaker.TRIAL
    with pytest.raises(DatabaseDown):  # one trial at a time: the others still fail at once
        breaker.admit()

    breaker.trip()  # the trial found it down: open again, for the whole time
    clock[0] += 1.9
    with pytest.raises(DatabaseDown):
        breaker.admit()
    clock[0] += 0.2
    assert breaker.admit() == CircuitBreaker.TRIAL
    breaker.succeeded()
    assert not breaker.is_open
    assert breaker.admit() == CircuitBreaker.CLOSED


def test_a_trial_that_neither_reached_nor_missed_the_database_lets_the_next_one_try(clock):
    breaker = CircuitBreaker()
    breaker.trip()
    clock[0] += 3
    assert breaker.admit() == CircuitBreaker.TRIAL
    breaker.ended_trial()
    assert breaker.admit() == CircuitBreaker.TRIAL


def test_only_a_database_out_of_reach_opens_it():
    refused = psycopg.OperationalError("connection refused")
    shutting_down = psycopg.errors.AdminShutdown("terminating connection")
    too_many = psycopg.errors.TooManyConnections("sorry, too many clients already")
    wrong_password = psycopg.errors.InvalidPassword("password authentication failed")

    assert is_unreachable(refused) and is_unreachable(shutting_down)
    assert not is_unreachable(too_many) and not is_unreachable(wrong_password)
    assert not is_unreachable(ValueError("not a database error"))
