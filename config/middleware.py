from django.conf import settings
from django.http import JsonResponse


class RequestBodyLimitMiddleware:
    """Refuse bodies over REQUEST_BODY_MAX_BYTES with 413 before anything reads them.

    DRF parsers read the request stream directly, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    alone does not protect JSON endpoints.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.REQUEST_BODY_MAX_BYTES
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
        except ValueError:
            return JsonResponse({"detail": "Malformed Content-Length header."}, status=400)
        if length > limit:
            return JsonResponse(
                {"detail": f"Request body is larger than the {limit} byte limit."},
                status=413,
            )
        return self.get_response(request)
