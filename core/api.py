"""The API base every app shares: pagination, search and ordering, the bounded JSON parser, and
the one exception handler that turns domain errors into status codes."""

import hashlib
import json
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.core.paginator import Paginator
from django.db import InterfaceError, OperationalError
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, ValuesIterable
from django.utils.functional import cached_property
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, filters, pagination, parsers, status
from rest_framework.response import Response

from core import db
from core.errors import BrokenRule, Conflict, DomainError, LoginRefused, NotFound, TooManyAttempts
from core.middleware import DATABASE_UNAVAILABLE

logger = logging.getLogger(__name__)


def _ids_only(queryset: QuerySet) -> QuerySet:
    """The same rows, selecting only their ids (a bounded count then computes no annotations,
    e.g. no per-row subquery), unless grouping or DISTINCT could make that change the rows."""
    query = queryset.query
    if (
        query.distinct
        or query.group_by is not None
        or any(getattr(a, "contains_aggregate", False) for a in query.annotations.values())
    ):
        return queryset
    return queryset.values("pk")


class LargeListPaginator(Paginator):
    """Django's paginator, planned for lists of millions of rows (DESIGN.md rule 9).

    Count: an exact `COUNT(*)` of a million rows costs 100-200 ms on every page. So the count
    is first bounded: `COUNT(*)` of at most `count_cache_threshold` rows. Below that, it is the
    exact count, always. From that size on, the exact count of the same filtered query (the
    same SQL and parameters: same organization, filters, search; any ordering) is kept in the
    shared cache for `count_cache_seconds`: within that time `count` can lag behind rows added
    or removed since (the pages' rows are always current: the last page can be empty, or one
    page late). The API contract holds: `count` is an int, exact for every list below the
    threshold. A list cached at twice the threshold or more is not even bounded-counted again
    (10,000 rows would have to go within the minute for it to fall below the threshold).

    A list given `candidates` (a search ranked by relevance: its order is costly to compute for
    every row) first reads the ids of at most `few_rows` matches, unordered: a list that short
    is counted and paged from them (one pass over the matches instead of two: the count's and
    the page's); a longer one is counted as above, then `candidates` names the ids its page lies
    among.

    Deep pages: `OFFSET n` makes PostgreSQL walk n rows. From row `deferred_offset` on, the
    page's ids are read first (an index-only scan of the ordering's index), then only those
    rows are loaded, in the same order: the same rows as one query, without the n row reads.
    """

    count_cache_threshold = 10_000
    count_cache_seconds = 60
    deferred_offset = 1000
    few_rows = 2000

    def __init__(self, *args, count_key=None, rows=None, candidates=None, among=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.count_key = count_key  # what names the filtered query (else: its SQL)
        self.rows = rows  # how the page's rows are read (e.g. `.values(...)`): not how it counts
        # candidates(queryset, top=, count=): ids among which lie the queryset's first `top`
        # rows (found without ordering every row: search relevance tier by tier), or None.
        self.candidates = candidates
        # among(ids): the queryset's rows of those ids, in its order, without testing its
        # filters again (they are its rows: e.g. no second pass of a search's trigram indexes).
        self.among = among
        self.few = None  # the ids of a list of `few_rows` or fewer, when read first

    @cached_property
    def count(self):
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        queryset = queryset.order_by()
        key = self.count_key
        if key is None:
            try:
                sql, params = queryset.query.sql_with_params()
            except (EmptyResultSet, FullResultSet):
                return queryset.count()
            key = f"{queryset.db}|{sql}|{params!r}"
        key = f"page-count:{hashlib.sha256(key.encode()).hexdigest()}"
        count = cache.get(key)
        if count is not None and count >= 2 * self.count_cache_threshold:
            return count  # it cannot have fallen below the threshold meanwhile
        if self.candidates is not None and count is None:
            ids = list(_ids_only(queryset).values_list("pk", flat=True)[: self.few_rows + 1])
            if len(ids) <= self.few_rows:
                self.few = ids
                return len(ids)
        bounded = _ids_only(queryset)[: self.count_cache_threshold].count()
        if bounded < self.count_cache_threshold:
            return bounded
        if count is None or count < bounded:
            count = queryset.count()
            cache.set(key, count, self.count_cache_seconds)
        return count

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if self.orphans and top + self.orphans >= self.count:
            top = self.count  # (not capped otherwise: a cached count must not cut rows off)
        rows = self.object_list if self.rows is None else self.rows(self.object_list)
        if self.candidates is not None:
            ids = self.few
            if ids is None:
                ids = self.candidates(self.object_list, top=top, count=self.count)
            if ids is not None:  # the same first `top` rows, in the queryset's (total) order
                among = self.among(ids) if self.among else self.object_list.filter(pk__in=ids)
                among = among if self.rows is None else self.rows(among)
                return self._get_page(among[bottom:top], number, self)
        if bottom < self.deferred_offset or not self._can_defer():
            return self._get_page(rows[bottom:top], number, self)
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self._get_page(list(rows.filter(pk__in=ids)), number, self)

    def _can_defer(self) -> bool:
        """Model (or values) rows in a total order (the ordering ends with the id), no DISTINCT or
        UNION."""
        queryset = self.object_list
        return (
            isinstance(queryset, QuerySet)
            and queryset._iterable_class in (ModelIterable, ValuesIterable)
            and queryset.ordered
            and not queryset.query.distinct
            and not queryset.query.combinator
            and not queryset.query.is_sliced
        )


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M`: 20 by default, at most 500; counted and sliced by
    `LargeListPaginator` (cached counts for lists of 10,000 rows or more, deep pages by id).

    A large list's cached count is named by what determines its rows: the caller (their
    organization and role), the path and the query parameters other than the page's, so naming
    it costs nothing (not the SQL compiled once more to hash it)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(
        self, queryset, request, view=None, *, rows=None, candidates=None, among=None
    ):
        """The page of `queryset`; `rows(queryset)` reads its rows when given (the count is
        taken of `queryset` itself, e.g. without the joins a `values()` adds); `candidates` finds
        the page's ids when given (LargeListPaginator)."""
        self.count_key = _count_key(request, (self.page_query_param, self.page_size_query_param))
        self.rows = rows
        self.candidates = candidates
        self.among = among
        return super().paginate_queryset(queryset, request, view)

    def django_paginator_class(self, object_list, per_page):
        return LargeListPaginator(
            object_list,
            per_page,
            count_key=self.count_key,
            rows=self.rows,
            candidates=self.candidates,
            among=self.among,
        )


def _count_key(request, paging: tuple[str, ...]) -> str:
    user = request.user
    parameters = sorted(
        (name, values)
        for name, values in request.query_params.lists()
        if name not in (*paging, "ordering")
    )
    return f"{user.pk}|{request.path}|{parameters!r}"


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which builds its filter set and form only when the request
    names one of its parameters: a list without filters (the usual page) skips the form."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or request.query_params.keys().isdisjoint(
            filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


class SearchFilter(filters.SearchFilter):
    """`?search=` (case-insensitive substring); a refused term is `{"search": [...]}`."""

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except exceptions.ValidationError as exc:
            raise exceptions.ValidationError({self.search_param: exc.detail}) from exc


class OrderingFilter(filters.OrderingFilter):
    """`?ordering=`, ignoring unknown fields, always ending with the id so pages never overlap.
    Without one (nor a view default) the queryset keeps its own order. A view with a
    `search_relevance(queryset, term)` orders a `?search=` without a valid `ordering` by it
    (the most relevant first) instead of its default."""

    def filter_queryset(self, request, queryset, view):
        relevance = getattr(view, "search_relevance", None)
        if relevance is not None and not self._requested(request, queryset, view):
            term = " ".join(SearchFilter().get_search_terms(request))
            if term:
                return relevance(queryset, term)
        return super().filter_queryset(request, queryset, view)

    def _requested(self, request, queryset, view) -> list[str]:
        """The valid fields the request's `?ordering=` names (none: the default applies)."""
        params = request.query_params.get(self.ordering_param)
        if not params:
            return []
        fields = [param.strip() for param in params.split(",")]
        return self.remove_invalid_fields(queryset, fields, view, request)

    def get_ordering(self, request, queryset, view):
        ordering = list(
            super().get_ordering(request, queryset, view) or queryset.query.order_by or []
        )
        names = [field for field in ordering if isinstance(field, str)]
        if not any(field.lstrip("-") in ("id", "pk") for field in names):
            # In the direction of the last field, so an (organization, field, id) index read
            # backwards serves a descending order without a sort.
            descending = bool(names) and names[-1].startswith("-")
            ordering.append("-id" if descending else "id")
        return ordering


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "request_too_large"


def _reject_constant(value):
    raise ValueError(f"{value} is not valid JSON")


def _bad_text(text: str) -> bool:
    """NUL or an unpaired surrogate: text that no database column or response can carry."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _structure_error(data, max_depth: int) -> str | None:
    """Why the parsed JSON is refused (too deep, unstorable text), or None; no recursion."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _bad_text(value):
                return "strings must not contain NUL or unpaired surrogate characters."
            continue
        if isinstance(value, dict):
            if any(_bad_text(key) for key in value):
                return "keys must not contain NUL or unpaired surrogate characters."
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > max_depth:
            return f"nested deeper than {max_depth} levels."
        stack.extend((child, depth + 1) for child in children)
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, bounded: body size, nesting depth, no NaN/Infinity, no NUL or
    unpaired surrogates (PostgreSQL cannot store them and responses cannot encode them)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.REQUEST_BODY_MAX_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge()
        if not raw:
            return {}
        try:
            text = raw.decode(encoding)
            data = json.loads(text, parse_constant=_reject_constant)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        problem = _structure_error(data, settings.JSON_MAX_DEPTH)
        if problem:
            raise exceptions.ParseError(f"JSON parse error - {problem}")
        return data


# The one place where a domain error becomes a status code (DESIGN rule 10).
STATUS_OF = (
    (BrokenRule, status.HTTP_400_BAD_REQUEST),
    (Conflict, status.HTTP_409_CONFLICT),
    (NotFound, status.HTTP_404_NOT_FOUND),
    (LoginRefused, status.HTTP_401_UNAUTHORIZED),
    (TooManyAttempts, status.HTTP_429_TOO_MANY_REQUESTS),
)


def _domain_error_response(exc: DomainError) -> Response:
    code = next(code for kind, code in STATUS_OF if isinstance(exc, kind))
    headers = {}
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.wait)
    if isinstance(exc, LoginRefused):
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return Response(exc.as_data(), status=code, headers=headers)


def exception_handler(exc, context):
    """DRF's handler, plus the domain errors (400/409/404/401/429) and an unreachable
    database (503, so clients and load balancers retry instead of giving up)."""
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES, which names this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DomainError):
        return _domain_error_response(exc)
    if isinstance(exc, OperationalError | InterfaceError):
        logger.error("Database unavailable, answered 503: %s", exc)
        return Response(
            {"detail": DATABASE_UNAVAILABLE},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    return drf_exception_handler(exc, context)


class ResponseThen(Response):
    """A response that runs `then()` once it has been sent: the WSGI server calls `close()`
    after writing the body (PEP 3333), so the client's answer (sent with its length) waits for
    none of that work, and its timing says nothing about what the work found to do. A failure
    there is logged; the answer is out already."""

    def __init__(self, *args, then, **kwargs):
        super().__init__(*args, **kwargs)
        self._then = then

    def close(self):
        then, self._then = self._then, None
        if then is not None:
            try:
                then()
            except Exception:
                logger.exception("Work after the response failed")
        super().close()  # then request_finished: the database connection goes back


class HeavyReadsMixin:
    """A view whose `heavy_actions` (e.g. "list", "export"; "get" for a plain APIView) read
    from the read replica (core.db.heavy_reads: not for a user who wrote in the last
    REPLICA_STICKY_SECONDS, nor while the replica lags or is down), after authentication and
    the permission checks, which read the primary. A replica that fails during the request
    is marked unavailable and the request runs again on the primary, so its client never
    sees the failure. An export's queryset is pinned to the alias chosen, since its rows are
    read while the answer streams, after the view returned."""

    heavy_actions: frozenset[str] = frozenset()
    # Actions whose rows are read while the answer streams, after the view returned.
    streamed_actions = frozenset({"export"})

    def _is_heavy(self, request) -> bool:
        action = getattr(self, "action", None) or request.method.lower()
        return request.method in ("GET", "HEAD") and action in self.heavy_actions

    def dispatch(self, request, *args, **kwargs):
        self._replica_failed = False
        self._primary_only = False
        with db.primary_reads():
            response = super().dispatch(request, *args, **kwargs)
        if self._replica_failed:
            db.REPLICA.failed()
            logger.warning("Read replica failed during %s; answered from the primary",
                           request.path)  # fmt: skip
            self._replica_failed, self._primary_only = False, True
            with db.primary_reads():
                response = super().dispatch(request, *args, **kwargs)
        return response

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not self._primary_only and db.replica_alias() and self._is_heavy(request):
            db.start_heavy_reads(getattr(request.user, "pk", None))

    def handle_exception(self, exc):
        if isinstance(exc, OperationalError | InterfaceError) and db.reading_from_replica():
            self._replica_failed = True
            return Response(status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return super().handle_exception(exc)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if getattr(self, "action", None) in self.streamed_actions and db.reading_from_replica():
            queryset = queryset.using(db.current_read_alias())
        return queryset
