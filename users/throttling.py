"""Failed-login throttling per (username, client address), counted in the shared cache.

The cache is Redis when REDIS_URL is set, else the database, so every server process sees
the same counters. Each attempt is counted atomically BEFORE the password is checked
(`core.cache.count_in_window`: Redis INCR, or a locked row), so concurrent attempts cannot
all slip through under the limit: of 60 simultaneous wrong passwords, exactly
LOGIN_THROTTLE_FAILURES are checked. A successful login clears the pair's count.

While Redis is down the counters are kept per server process (logged; see the README).
"""

import hashlib
import math

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from core import cache as counters
from core.errors import TooManyAttempts


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
