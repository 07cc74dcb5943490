"""Failed-login throttling per (username, client address), counted in the shared cache.

The cache is Redis when REDIS_URL is set, else the database, so every server process sees
the same counters.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle


def client_address(request) -> str:
    """The client's address (honours REST_FRAMEWORK's NUM_PROXIES like DRF's throttles)."""
    return BaseThrottle().get_ident(request)


def _key(username: str, address: str) -> str:
    pair = f"{username.strip().lower()}|{address}"
    digest = hashlib.sha256(pair.encode("utf-8", "surrogatepass")).hexdigest()
    return f"login-failures:{digest}"


def _remaining(key: str) -> int:
    """Seconds left in the window that started with the pair's first failure."""
    started = cache.get(f"{key}:start")
    if started is None:
        return settings.LOGIN_THROTTLE_WINDOW_SECONDS
    return max(1, math.ceil(started + settings.LOGIN_THROTTLE_WINDOW_SECONDS - time.time()))


def ensure_login_allowed(*, username: str, address: str) -> None:
    """Raise 429 once the pair has failed LOGIN_THROTTLE_FAILURES times in the window."""
    key = _key(username, address)
    if cache.get(key, 0) >= settings.LOGIN_THROTTLE_FAILURES:
        raise Throttled(
            wait=_remaining(key), detail="Too many failed login attempts. Try again later."
        )


def record_login_failure(*, username: str, address: str) -> None:
    """Count a failure; the window starts at the first one and later ones do not extend it."""
    key = _key(username, address)
    window = settings.LOGIN_THROTTLE_WINDOW_SECONDS
    cache.add(f"{key}:start", time.time(), timeout=window)
    remaining = _remaining(key)
    if cache.add(key, 1, timeout=remaining):
        return
    try:
        cache.incr(key)  # atomic on Redis
    except ValueError:  # expired meanwhile: a new window
        cache.set(key, 1, timeout=remaining)
        return
    # incr keeps the expiry on Redis but not on every backend (the database cache resets it).
    cache.touch(key, remaining)


def clear_login_failures(*, username: str, address: str) -> None:
    key = _key(username, address)
    cache.delete_many([key, f"{key}:start"])
