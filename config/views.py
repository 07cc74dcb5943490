"""`/api/health/`: what a load balancer asks before sending traffic."""

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.db import replica_status

# The check answers within about a second, even while every pooled connection is dead.
DATABASE_CHECK_SECONDS = 1.0

HEALTH_FIELDS = {
    "status": serializers.ChoiceField(choices=["ok", "degraded", "error"]),
    "database": serializers.ChoiceField(choices=["ok", "unavailable"]),
    "cache": serializers.ChoiceField(choices=["ok", "unavailable", "missing"]),
    # Only with a read replica configured (DATABASE_REPLICA_URL).
    "replica": serializers.ChoiceField(choices=["ok", "lagging", "unavailable"], required=False),
}


def database_status() -> str:
    """ "ok" when PostgreSQL (or SQLite) answers a query within a second, else "unavailable";
    at once while the connection breaker is open (core.pooling): under load, health answers
    from what the last attempt found instead of waiting for a connection with the requests."""
    try:
        if hasattr(connection, "check_database"):
            connection.check_database(timeout=DATABASE_CHECK_SECONDS)
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
    except Exception:  # DatabaseDown, PoolTimeout, OperationalError, ...: all mean "not now"
        return "unavailable"
    return "ok"


def _redis_answers(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.exceptions.RedisError, OSError):
        return False


def cache_status(*, database_up: bool = True) -> str:
    """The shared cache (throttle counters) and the Celery broker: "ok", "unavailable" when
    Redis does not answer, "missing" when the database cache's table was never made."""
    backend = settings.CACHES["default"]["BACKEND"]
    if "redis" in backend.lower():
        if not _redis_answers(settings.CACHES["default"]["LOCATION"]):
            return "unavailable"
    elif backend.endswith("DatabaseCache"):
        if not database_up:
            return "unavailable"
        try:
            cache.get("health-check")
        except DatabaseError:
            return "missing"
    broker = settings.CELERY_BROKER_URL
    if broker.startswith(("redis://", "rediss://")) and not _redis_answers(broker):
        return "unavailable"
    return "ok"


class HealthView(APIView):
    """200 `ok`, or `degraded` when the cache or the broker is unreachable (the API still
    answers; notifications wait in the outbox) or the read replica lags or is unreachable
    (reads go to the primary); 503 only when the database is unreachable."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = []

    @extend_schema(
        responses={
            (200, "application/json"): inline_serializer("Health", HEALTH_FIELDS),
            (503, "application/json"): inline_serializer("HealthFailure", HEALTH_FIELDS),
        }
    )
    def get(self, request):
        database = database_status()
        cache_state = cache_status(database_up=database == "ok")
        if database != "ok":
            return Response(
                {"status": "error", "database": database, "cache": cache_state},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        answer = {"status": "ok", "database": database, "cache": cache_state}
        replica = replica_status()
        if replica is not None:
            answer["replica"] = replica
        if cache_state != "ok" or replica not in (None, "ok"):
            answer["status"] = "degraded"
        return Response(answer)
