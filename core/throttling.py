"""The request rate throttles (API.md: THROTTLE_ANON per address, THROTTLE_USER per user),
counted in the shared cache in one round trip.

DRF's own throttles keep a list of request times per client: a read and a write of the pickled
list on every request. These count in a fixed window instead (`core.cache.count_in_window`:
one MULTI to Redis, or a locked row of the database cache): the window starts with a client's
first request and is not extended; once `num_requests` are in it, the client waits for its end
(`Retry-After`).
"""

from django.core.cache import cache
from rest_framework import throttling

from core import cache as counters


class WindowRateThrottle(throttling.SimpleRateThrottle):
    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        count, self.ends = counters.count_in_window(cache, self.key, window=self.duration)
        return count <= self.num_requests

    def wait(self):
        return max(0.0, self.ends - counters.clock())


class AnonRateThrottle(WindowRateThrottle, throttling.AnonRateThrottle):
    """Anonymous requests, per client address."""


class UserRateThrottle(WindowRateThrottle, throttling.UserRateThrottle):
    """Authenticated requests, per user."""
