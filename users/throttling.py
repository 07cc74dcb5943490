"""Failed-login throttling per (username, client address), counted in the shared cache.

The cache is Redis when REDIS_URL is set, else the database, so every server process sees
the same counters.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle


def client_address(request) -> str:
    """The client's address (honours REST_FRAMEWORK's NUM_PROXIES like DRF's throttles)."""
    return BaseThrottle().get_ident(request)


def _key(username: str, address: str) -> str:
    digest = hashlib.sha256(f"{username.strip().lower()}|{address}".encode()).hexdigest()
    return f"login-failures:{digest}"


def ensure_login_allowed(*, username: str, address: str) -> None:
    """Raise 429 once the pair has failed LOGIN_THROTTLE_FAILURES times in the window."""
    failures = cache.get(_key(username, address), 0)
    if failures >= settings.LOGIN_THROTTLE_FAILURES:
        raise Throttled(
            wait=settings.LOGIN_THROTTLE_WINDOW_SECONDS,
            detail="Too many failed login attempts. Try again later.",
        )


def record_login_failure(*, username: str, address: str) -> None:
    key = _key(username, address)
    # The window starts at the first failure and is not extended by later ones.
    cache.add(key, 0, timeout=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=settings.LOGIN_THROTTLE_WINDOW_SECONDS)


def clear_login_failures(*, username: str, address: str) -> None:
    cache.delete(_key(username, address))
