"""Cache backends that keep the API answering, and one atomic counter for throttles.

Throttle counters and cached list counts live in the shared cache: Redis when `REDIS_URL` is
set, else the database cache table (made by `migrate`). Redis going away must not turn every
request into a 500 (the rate throttles and the login counter read the cache on every call):
`ResilientRedisCache` then answers from this process's memory, logs it, and tries Redis again
a few seconds later. While it is down, counters are per process (see the README).

Derived data read on every request (the signed-in user with their role and permissions, an
organization's dashboard and alerts) is cached by *version* (`cached_version`, `store`,
`changed`): each cached value carries the version it was computed at, and a change moves the
version on after its transaction commits, before the request that made it answers. A value is
used only when its version is the current one, so a read after a change never sees the value
from before it (whoever computed it). Values are not trusted while Redis is down (each process
would see only its own changes): everything is computed afresh then.

A change whose version could not be moved on (Redis unreachable from the process that made it)
is recorded in the database, in its own transaction (`core.models.MissedInvalidation`), and the
count of those records is part of every version (`database_epoch`). So when Redis answers again,
on any node, with whatever it kept (a restart from its own files, a partition only some nodes
saw), no value cached before the change is used. A process reads that count again at most
once every `EPOCH_RECHECK_SECONDS` (one small query a second per busy process, nothing per
request); a change of a signed-in user recorded that way answers only once that time has
passed (`changed(..., settle=True)`), so no node trusts an older reading after the answer. The
process that noticed an outage also moves a global epoch in Redis on when it answers again.
"""

import contextlib
import logging
import threading
import time
from functools import partial

from django.core.cache import cache as default_cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router, transaction
from django.db.models import Count, Sum

logger = logging.getLogger(__name__)

# Process-local backends (local memory) count under this lock.
_local_lock = threading.Lock()


def clock() -> float:
    """The time counting windows are measured in (a Unix time; tests move it)."""
    return time.time()


def _count_locally(cache, key: str, window: int) -> tuple[int, float]:
    """Read-modify-write of a (count, window end) pair; the caller makes it atomic."""
    now = clock()
    count, ends = cache.get(key) or (0, now + window)
    if ends <= now:
        count, ends = 0, now + window
    count += 1
    cache.set(key, (count, ends), timeout=max(1, int(ends - now) + 1))
    return count, ends


def count_in_window(cache, key: str, *, window: int) -> tuple[int, float]:
    """Count one more event under `key` atomically; the window starts with the first event and
    later ones do not extend it (deleting `key` and `f"{key}:ends"` resets it). Returns (events
    in the window so far, the window's end as a Unix time). Concurrent callers each get a
    different count (no read-then-write race)."""
    if hasattr(cache, "count_in_window"):
        return cache.count_in_window(key, window=window)
    with _local_lock:
        return _count_locally(cache, key, window)


def _uncount_locally(cache, key: str) -> None:
    """Read-modify-write of a (count, window end) pair, one event fewer; the caller makes it
    atomic. Nothing when the window has ended (or never started)."""
    now = clock()
    count, ends = cache.get(key) or (0, now)
    if count > 0 and ends > now:
        cache.set(key, (count - 1, ends), timeout=max(1, int(ends - now) + 1))


def uncount(cache, key: str) -> None:
    """Take back one event that `count_in_window` counted under `key` (an attempt that turned
    out not to count), atomically; nothing once its window has ended."""
    if hasattr(cache, "uncount"):
        return cache.uncount(key)
    with _local_lock:
        _uncount_locally(cache, key)


class DatabaseCache(DjangoDatabaseCache):
    """Django's database cache, with an atomic `count_in_window` and `uncount` (the row is
    locked)."""

    @contextlib.contextmanager
    def _row_locked(self, key: str, *, made_with=None):
        """A transaction holding `key`'s row locked (made first with `made_with`, when given),
        so concurrent counters queue on it. SQLite runs one writing transaction at a time
        (IMMEDIATE mode)."""
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        with transaction.atomic(using=db):
            if connection.vendor == "postgresql":
                if made_with is not None:
                    self.add(key, made_with[0], timeout=made_with[1])
                table = connection.ops.quote_name(self._table)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT cache_key FROM {table} WHERE cache_key = %s FOR UPDATE",
                        [self.make_and_validate_key(key)],
                    )
            yield

    def count_in_window(self, key: str, *, window: int) -> tuple[int, float]:
        with self._row_locked(key, made_with=((0, clock() + window), window + 1)):
            return _count_locally(self, key, window)

    def uncount(self, key: str) -> None:
        with self._row_locked(key):
            _uncount_locally(self, key)


class ResilientRedisCache(RedisCache):
    """Django's Redis cache that answers from local memory while Redis is unreachable.

    Connections time out after half a second; after a failure this process stays on its
    local-memory cache for `RETRY_SECONDS`, then tries Redis again.
    """

    RETRY_SECONDS = 5

    def __init__(self, server, params):
        options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
        options.update(params.get("OPTIONS", {}))
        super().__init__(server, {**params, "OPTIONS": options})
        self._fallback = LocMemCache(f"redis-fallback-{id(self)}", {})
        self._down_until = 0.0
        self._missed = False  # Redis failed us since it last answered: versions may be behind

    @property
    def is_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _went_down(self, exc) -> None:
        self._down_until = time.monotonic() + self.RETRY_SECONDS
        self._missed = True
        forget_database_epoch()  # read it again before trusting Redis: others may have missed
        logger.warning(
            "Redis cache unreachable (%s): counting in this process's memory for %d s",
            exc,
            self.RETRY_SECONDS,
        )

    def _move_epoch_on(self) -> None:
        """Redis is back: versions moved on meanwhile went to this process's memory only, so
        no value cached before is to be trusted: a new epoch (see `cached_version`)."""
        with contextlib.suppress(ValueError):  # no epoch yet: nothing was cached at one
            super().incr(EPOCH_KEY)
        self._missed = False

    def _call(self, name: str, *args, **kwargs):
        import redis

        if not self.is_down:
            try:
                if self._missed:
                    self._move_epoch_on()
                return getattr(super(), name)(*args, **kwargs)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                self._went_down(exc)
        return getattr(self._fallback, name)(*args, **kwargs)

    def ping(self) -> bool:
        """Whether Redis answers right now (for the health check); never raises."""
        import redis

        try:
            return bool(self._cache.get_client(write=True).ping())
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            return False

    def count_in_window(self, key: str, *, window: int) -> tuple[int, float]:
        import redis

        if not self.is_down:
            try:
                return self._count_in_redis(key, window)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                self._went_down(exc)
        with _local_lock:
            return _count_locally(self._fallback, key, window)

    def _count_in_redis(self, key: str, window: int) -> tuple[int, float]:
        """SET NX with the expiry, then INCR, in one MULTI: the count keeps its first expiry.
        A window whose end has passed starts again (Redis's expiry only tidies up)."""
        ends_key = self.make_and_validate_key(f"{key}:ends")
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key, write=True)
        for _ in range(2):
            started = clock()
            pipeline = client.pipeline(transaction=True)
            pipeline.set(ends_key, started + window, ex=window + 1, nx=True)
            pipeline.set(key, 0, ex=window + 1, nx=True)
            pipeline.incr(key)
            pipeline.get(ends_key)
            _, _, count, ends = pipeline.execute()
            ends = float(ends) if ends is not None else started + window
            if ends > started:
                break
            client.delete(key, ends_key)
        return int(count), ends

    # DECR only a count that is still there and above zero (never make a key without expiry).
    UNCOUNT_SCRIPT = (
        "local n = tonumber(redis.call('GET', KEYS[1]) or '0') "
        "if n > 0 then return redis.call('DECR', KEYS[1]) end return 0"
    )

    def uncount(self, key: str) -> None:
        import redis

        if not self.is_down:
            try:
                stored = self.make_and_validate_key(key)
                self._cache.get_client(stored, write=True).eval(self.UNCOUNT_SCRIPT, 1, stored)
                return
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                self._went_down(exc)
        with _local_lock:
            _uncount_locally(self._fallback, key)

    def move_version_on(self, key: str) -> bool:
        """A version key one step on (made first when missing): one round trip. Returns
        whether it moved: not while Redis is unreachable (the caller records that it missed)."""
        import redis

        if self.is_down:
            return False
        try:
            key = self.make_and_validate_key(key)
            pipeline = self._cache.get_client(key, write=True).pipeline(transaction=True)
            pipeline.set(key, time.time_ns(), nx=True)
            pipeline.incr(key)
            pipeline.execute()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            self._went_down(exc)
            return False
        return True

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def clear(self):
        return self._call("clear")


# --- Values cached by version --------------------------------------------------------------------

EPOCH_KEY = "version-epoch"

# How long a process trusts its reading of the database's count of missed invalidations.
EPOCH_RECHECK_SECONDS = 1.0
# Rows of missed invalidations past this many are folded into one (their weights summed).
EPOCH_FOLD_ROWS = 1000
_reading = {"epoch": None, "read_at": float("-inf")}


def forget_database_epoch() -> None:
    """This process reads the database's epoch again before it next trusts the shared cache."""
    _reading["read_at"] = float("-inf")


def database_epoch() -> int:
    """How many changes the shared cache missed, as recorded in the database: as this
    process last read it, read again when that reading is more than EPOCH_RECHECK_SECONDS
    old. A reading counts from the moment its query was sent (it sees every commit before)."""
    now = time.monotonic()
    if _reading["epoch"] is None or now - _reading["read_at"] > EPOCH_RECHECK_SECONDS:
        from core.models import MissedInvalidation

        found = MissedInvalidation.objects.aggregate(epoch=Sum("weight"), rows=Count("id"))
        if found["rows"] > EPOCH_FOLD_ROWS:
            _fold_missed_invalidations()
        _reading.update(epoch=found["epoch"] or 0, read_at=now)
    return _reading["epoch"]


def _fold_missed_invalidations() -> None:
    """Fold the recorded rows into one with their summed weight: the epoch stays the same.
    Rows another transaction is inserting (or folding) are left alone."""
    from core.models import MissedInvalidation

    with transaction.atomic():
        rows = list(
            MissedInvalidation.objects.select_for_update(skip_locked=True).values_list(
                "pk", "weight"
            )
        )
        if len(rows) > 1:
            MissedInvalidation.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
            MissedInvalidation.objects.create(weight=sum(weight for _, weight in rows))


def record_missed_invalidation() -> None:
    """A version could not be moved on: write it down (in the current transaction, if any, so
    it commits with the change), and read the epoch again here before trusting the cache."""
    from core.models import MissedInvalidation

    MissedInvalidation.objects.create()
    forget_database_epoch()


def _first(key: str, cache) -> int:
    """The value of a version key, made now when it has none (a value never used before)."""
    cache.add(key, time.time_ns(), timeout=None)
    return cache.get(key) or 0


def cached_version(key: str, *, version_key: str | None = None, cache=None):
    """What is cached under `key`, if it was stored at the current version of `version_key`
    (default: `key` itself; several values can share one version), else None; and the current
    version to `store` a fresh value at (None when nothing may be cached now: the shared cache
    is down). One round trip (and, at most once a second, the database's epoch)."""
    cache = cache or default_cache
    if getattr(cache, "is_down", False):
        return None, None
    missed = database_epoch() if _may_miss(cache) else 0
    version_key = f"{version_key or key}:version"
    found = cache.get_many([EPOCH_KEY, version_key, key])
    version = (
        missed,
        found.get(EPOCH_KEY) or _first(EPOCH_KEY, cache),
        found.get(version_key) or _first(version_key, cache),
    )
    entry = found.get(key)
    if entry is not None and entry[0] == version:
        return entry[1], version
    return None, version


def _may_miss(cache) -> bool:
    """A cache that can be unreachable while the database is not (Redis) can miss changes."""
    return hasattr(cache, "move_version_on")


def store(key: str, version: tuple | None, value, *, timeout: int, cache=None) -> None:
    """Cache `value` under `key` at `version` (as `cached_version` gave it, read BEFORE the value
    was computed); nothing when there is no version."""
    if version is not None and value is not None:
        (cache or default_cache).set(key, (version, value), timeout)


def changed(*version_keys: str, cache=None, settle: bool = False) -> None:
    """What is cached at these versions is out of date: move them on now, and again once the
    current transaction commits, so the next read computes it afresh. Now: nothing in this
    transaction reads the old value (nor a test, whose transaction never commits). After the
    commit: a value another request computed meanwhile from the state before it is not used.

    A move that fails (Redis unreachable) is recorded in the database: now, in the change's
    transaction, or after the commit if it failed only then. `settle`: once such a record has
    committed, wait EPOCH_RECHECK_SECONDS before answering, so that no node still trusts a
    reading of the epoch from before it (for what must hold everywhere from the answer on:
    a user's role, permissions, password, activation)."""
    cache = cache or default_cache
    recorded = not _move_all_on(version_keys, cache)
    if recorded:
        record_missed_invalidation()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(partial(_move_on, version_keys, cache, recorded, settle), robust=True)
    elif recorded and settle:
        time.sleep(EPOCH_RECHECK_SECONDS)


def _move_on(version_keys, cache, recorded: bool, settle: bool) -> None:
    """After the commit: move the versions on again; record a miss (unless recorded already),
    and settle, as `changed` says."""
    if not _move_all_on(version_keys, cache) and not recorded:
        record_missed_invalidation()
        recorded = True
    if recorded and settle:
        time.sleep(EPOCH_RECHECK_SECONDS)


def _move_all_on(version_keys, cache) -> bool:
    """Move every key on; whether all of them moved."""
    moved = True
    for key in version_keys:
        if _may_miss(cache):
            moved = cache.move_version_on(f"{key}:version") and moved
            continue
        try:
            cache.incr(f"{key}:version")
        except ValueError:  # none yet (or it expired): start one no value was stored at
            cache.add(f"{key}:version", time.time_ns(), timeout=None)
    return moved


def figures_key(organization_id: int) -> str:
    """The version of everything computed from an organization's catalogue and stock (its
    dashboard, its alerts): `changed(figures_key(...))` by every service that changes them."""
    return f"organization-figures:{organization_id}"


def figures_changed(organization_id: int) -> None:
    changed(figures_key(organization_id))
