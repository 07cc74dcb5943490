"""Request and response guards that hold for every view (DRF's or not)."""

import io
import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

try:  # what gunicorn raises while it decodes a chunked body for us (InvalidChunkSize, ...)
    from gunicorn.http.errors import ParseException as ChunkError
except ImportError:  # another WSGI server
    ChunkError = ValueError
# A body the server could not decode, or that ended before its last chunk (gunicorn's
# NoMoreData is an OSError, as is a connection reset while reading).
BROKEN_BODY = (ChunkError, OSError, ValueError)
DATABASE_UNAVAILABLE = "The database is unavailable; try again in a few seconds."


def database_unavailable_response(request) -> HttpResponse:
    """503 with `Retry-After`: JSON under /api/, plain text elsewhere (the admin)."""
    if request.path.startswith(API_PREFIX):
        response = JsonResponse({"detail": DATABASE_UNAVAILABLE}, status=503)
    else:
        response = HttpResponse(DATABASE_UNAVAILABLE, status=503, content_type="text/plain")
    response["Retry-After"] = "5"
    return response


def body_limit(path: str) -> int:
    """The largest body a request to `path` may send: REQUEST_BODY_MAX_BYTES, or the larger
    limit of a path that takes uploads (REQUEST_BODY_LIMITS, by path prefix: the imports)."""
    for prefix, limit in getattr(settings, "REQUEST_BODY_LIMITS", {}).items():
        if path.startswith(prefix):
            return limit
    return settings.REQUEST_BODY_MAX_BYTES


class RequestBodyLimitMiddleware:
    """Refuse bodies over REQUEST_BODY_MAX_BYTES with 413 before anything reads them.

    DRF parsers read the request stream directly, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    alone does not protect JSON endpoints. A chunked body (no Content-Length) is read here,
    up to one byte past the limit, and handed on as if it had come with its length: without
    that, Django and DRF would read it as empty. One the server cannot decode (a malformed
    chunk size, a body cut short) is a 400, never a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = body_limit(request.path)
        raw_length = request.META.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        stream = request.environ.get("wsgi.input")
        if not raw_length and chunked and stream is not None:
            try:
                body = stream.read(limit + 1)
            except BROKEN_BODY as exc:  # a bad chunk size, a body cut short: the client's fault
                logger.info("Malformed chunked request body refused: %r", exc)
                return JsonResponse({"detail": "Malformed chunked request body."}, status=400)
            if len(body) > limit:
                return self._too_large(limit)
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = io.BytesIO(body)
            return self.get_response(request)
        try:
            length = int(raw_length or "0")
        except ValueError:
            return JsonResponse({"detail": "Malformed Content-Length header."}, status=400)
        if length > limit:
            return self._too_large(limit)
        return self.get_response(request)

    @staticmethod
    def _too_large(limit: int) -> JsonResponse:
        return JsonResponse(
            {"detail": f"Request body is larger than the {limit} byte limit."}, status=413
        )


class ApiErrorMiddleware:
    """Under /api/ every answer is JSON: Django's HTML 404 and 500 pages become
    `{"detail": ...}` (Django still logs the 500 first). A database that cannot be reached is
    a 503 for every view, never a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code in (404, 500)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            detail = "Not found." if response.status_code == 404 else "Internal server error."
            return JsonResponse({"detail": detail}, status=response.status_code)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            logger.error("Database unavailable, answered 503: %s", exception)
            return database_unavailable_response(request)
        return None
