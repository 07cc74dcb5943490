from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.dates import time_zone_of
from core.errors import BrokenRule
from core.permissions import RolePermission
from core.tenancy import OrganizationScopedMixin
from stock.models import Location
from stocktakes import selectors, services
from stocktakes.filters import StocktakeFilter, StocktakeLineFilter
from stocktakes.serializers import (
    CountSerializer,
    StocktakeLineSerializer,
    StocktakeSerializer,
    SuggestionQuerySerializer,
    SuggestionSerializer,
)

# What each action of a stocktake needs beyond reading it (API.md: every role counts; admins
# and managers open, complete and cancel).
ACTION_PERMISSIONS = {
    "counts": "stocktakes.count_stocktake",
    "complete": "stocktakes.change_stocktake",
    "cancel": "stocktakes.change_stocktake",
}
EXPECTED_PERMISSION = "stocktakes.view_expected"


class StocktakeActionPermission(permissions.BasePermission):
    """The stocktake's own actions: a permission of their own, whatever the method."""

    def has_permission(self, request, view):
        needed = ACTION_PERMISSIONS.get(getattr(view, "action", None))
        return needed is None or request.user.has_perm(needed)


class StocktakeRolePermission(RolePermission):
    def has_permission(self, request, view):
        if getattr(view, "action", None) in ACTION_PERMISSIONS:
            # read permission for the object; the action's own is checked beside
            return request.user.has_perm("stocktakes.view_stocktake")
        return super().has_permission(request, view)


class StocktakeViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Counting what is on the shelves at one location; completing posts the differences."""

    queryset = selectors.stocktakes_with_figures()
    serializer_class = StocktakeSerializer
    permission_classes = [
        permissions.IsAuthenticated,
        StocktakeRolePermission,
        StocktakeActionPermission,
    ]
    filterset_class = StocktakeFilter
    search_fields = ["note"]
    ordering_fields = ["created_at", "number", "completed_at"]
    ordering = ["-created_at", "-id"]

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["hide_expected"] = not self.request.user.has_perm(EXPECTED_PERMISSION)
        return context

    def _answer(self, stocktake, code=status.HTTP_200_OK):
        stocktake = self.get_queryset().get(pk=stocktake.pk)
        return Response(self.get_serializer(stocktake).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        stocktake = services.create_stocktake(
            organization=request.user.organization,
            location=data["location"],
            user=request.user,
            note=data.get("note", ""),
            blind=data.get("blind", False),
            category=data.get("category"),
            product_ids=data.get("products"),
        )
        return self._answer(stocktake, status.HTTP_201_CREATED)

    def _line_context(self, stocktake):
        context = self.get_serializer_context()
        context["hide_expected"] = (
            context["hide_expected"] and stocktake.blind and not stocktake.is_completed
        )
        return context

    @extend_schema(
        responses=StocktakeLineSerializer(many=True),
        parameters=[OpenApiParameter("counted", bool, description="true: counted lines only")],
    )
    @action(detail=True, methods=["get"])
    def lines(self, request, pk=None):
        """The count sheet: every line, in SKU order (found stock after)."""
        stocktake = self.get_object()
        filterset = StocktakeLineFilter(
            request.query_params, queryset=selectors.lines_of(stocktake), request=request
        )
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        lines = filterset.qs
        page = self.paginate_queryset(lines)
        serializer = StocktakeLineSerializer(page, many=True, context=self._line_context(stocktake))
        return self.get_paginated_response(serializer.data)

    @extend_schema(request=CountSerializer, responses=StocktakeLineSerializer(many=True))
    @action(detail=True, methods=["post"])
    def counts(self, request, pk=None):
        """Record counted quantities; the books' quantity now becomes each line's expected."""
        stocktake = self.get_object()
        serializer = CountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        counts = [
            services.LineCount(
                product_id=line["product"],
                counted_quantity=line["counted_quantity"],
                lot_code=line.get("lot_code") or None,
            )
            for line in serializer.validated_data["lines"]
        ]
        counted = services.count_lines(stocktake=stocktake, counts=counts, user=request.user)
        lines = selectors.lines_of(stocktake).filter(pk__in=[line.pk for line in counted])
        serializer = StocktakeLineSerializer(
            lines, many=True, context=self._line_context(stocktake)
        )
        return Response(serializer.data)

    @extend_schema(request=None, responses=StocktakeSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Post every counted difference to the stock there now, all or nothing."""
        stocktake = services.complete_stocktake(stocktake=self.get_object(), user=request.user)
        return self._answer(stocktake)

    @extend_schema(request=None, responses=StocktakeSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel an open stocktake: nothing moves."""
        stocktake = services.cancel_stocktake(stocktake=self.get_object(), user=request.user)
        return self._answer(stocktake)

    @extend_schema(
        parameters=[SuggestionQuerySerializer], responses=SuggestionSerializer(many=True)
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def suggestions(self, request):
        """What is most worth counting next at a location (see docs/api.md for the rule)."""
        query = SuggestionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        location = self.scoped(Location.objects.all()).filter(pk=query.validated_data["location"])
        if not location.exists():
            raise BrokenRule("The location does not exist.", field="location")
        rows = selectors.counting_suggestions(
            organization_id=self.organization_id,
            location_id=query.validated_data["location"],
            limit=query.validated_data["limit"],
            tz=time_zone_of(self.organization),
        )
        return Response(SuggestionSerializer(rows, many=True).data)
