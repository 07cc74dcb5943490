"""Failed-login throttling per (username, client address), counted in the shared cache.

The cache is Redis when REDIS_URL is set, else the database, so every server process sees
the same counters. Each attempt is counted atomically BEFORE the password is checked
(`core.cache.count_in_window`: Redis INCR, or a locked row), so concurrent attempts cannot
all slip through under the limit: of 60 simultaneous wrong passwords, exactly
LOGIN_THROTTLE_FAILURES are checked. Only a wrong password keeps its count (`login_attempt`):
a successful login clears the pair's count, and an attempt that could not be checked (the
database unreachable: a 503) gives its count back.

While Redis is down the counters are kept per server process (logged; see the README).
"""

import contextlib
import hashlib
import logging
import math

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from core import cache as counters
from core.errors import TooManyAttempts

logger = logging.getLogger(__name__)


def client_address(request) -> str:
    """The client's address (honours REST_FRAMEWORK's NUM_PROXIES like DRF's throttles)."""
    return BaseThrottle().get_ident(request)


def normalize_username(username: str) -> str:
    """Usernames are counted case-insensitively, surrounding spaces stripped (API.md)."""
    return username.strip().lower()


def _key(username: str, address: str) -> str:
    pair = f"{normalize_username(username)}|{address}"
    digest = hashlib.sha256(pair.encode("utf-8", "surrogatepass")).hexdigest()
    return f"login-failures:{digest}"


def start_login_attempt(*, username: str, address: str) -> None:
    """Count this attempt; raise 429 when the pair already failed LOGIN_THROTTLE_FAILURES
    times in the window (which starts at its first failure and is not extended)."""
    count, ends = counters.count_in_window(
        cache, _key(username, address), window=settings.LOGIN_THROTTLE_WINDOW_SECONDS
    )
    if count > settings.LOGIN_THROTTLE_FAILURES:
        wait = max(1, math.ceil(ends - counters.clock()))
        unit = "second" if wait == 1 else "seconds"
        raise TooManyAttempts(
            "Too many failed login attempts. Try again later. "
            f"Expected available in {wait} {unit}.",
            wait=wait,
        )


def clear_login_failures(*, username: str, address: str) -> None:
    """A successful login forgets the pair's failures."""
    key = _key(username, address)
    cache.delete_many([key, f"{key}:ends"])


def give_back_login_attempt(*, username: str, address: str) -> None:
    """An attempt whose password was never checked does not count against the pair."""
    counters.uncount(cache, _key(username, address))


@contextlib.contextmanager
def login_attempt(*, username: str, address: str, refused: type[Exception] | tuple):
    """One login attempt: counted before the body checks the password (TooManyAttempts when
    the pair is over the limit), and kept only when the body raises `refused` (a wrong
    password). A body that returns is a success: the pair's failures are forgotten. Any other
    exception (the database unreachable, answered 503) gives the count back, so a client that
    retries through an outage is not locked out when it is over."""
    start_login_attempt(username=username, address=address)
    try:
        yield
    except refused:
        raise
    except BaseException:
        try:
            give_back_login_attempt(username=username, address=address)
        except Exception as exc:  # the shared cache is unreachable too: keep the first error
            logger.warning("Could not give back a login attempt that was not checked: %s", exc)
        raise
    clear_login_failures(username=username, address=address)
