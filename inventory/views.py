import functools

from django import forms
from django.conf import settings
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from core.cache import cached_version, figures_key, store
from core.dates import local_today
from core.db import reads_for_cache
from core.exports import CSVRenderer
from core.filters import StrictBooleanField, StrictBooleanFilter
from core.permissions import RolePermission
from core.serializers import ValuesRepresentation
from core.tenancy import OrganizationScopedMixin
from inventory import selectors, services
from inventory.exports import products_csv_response
from inventory.models import Category, Product
from inventory.serializers import (
    AlertsQuerySerializer,
    AlertsSerializer,
    CategorySerializer,
    ProductSerializer,
    VariationSerializer,
)
from inventory.services import ProductChanges, ProductFields, VariationFields
from purchases import selectors as purchase_selectors
from replenishment import selectors as replenishment_selectors
from stock import selectors as stock_selectors
from stock import services as stock_services
from stock.filters import ProductStockFilter, VariationStockFilter
from stock.serializers import StockLevelSerializer

CATALOGUE_PERMISSIONS = [permissions.IsAuthenticated, RolePermission]


class RestorePermission(RolePermission):
    """Restoring an archived product is the admin's, like deleting one."""

    perms_map = {**RolePermission.perms_map, "POST": ["%(app_label)s.delete_%(model_name)s"]}


# How long the alerts stay cached at most (see `alerts`; changes move their version on at once).
ALERTS_SECONDS = 300
PRODUCT_ORDERING = ["name", "sku", "price", "quantity", "available", "created_at", "updated_at"]


class CategoryViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """The organization's product categories."""

    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    permission_classes = CATALOGUE_PERMISSIONS
    filterset_fields = []
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.categories_with_product_count(super().get_queryset())

    def _fresh(self, category):
        return self.get_queryset().get(pk=category.pk)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = services.create_category(
            organization=request.user.organization, **serializer.validated_data
        )
        data = self.get_serializer(self._fresh(category)).data
        return Response(data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        category = self.get_object()
        serializer = self.get_serializer(
            category, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        services.update_category(category=category, **serializer.validated_data)
        return Response(self.get_serializer(self._fresh(category)).data)

    def perform_destroy(self, instance):
        services.delete_category(category=instance)


@functools.cache
def _rows_of(serializer_class) -> ValuesRepresentation:
    return ValuesRepresentation(serializer_class)


class ProductQueryMixin(OrganizationScopedMixin):
    """The organization's live products with their stock figures, in one query; with
    `?archived=true` (admin and manager) the archived ones instead."""

    queryset = Product.objects.all()  # the model, for the permission check; see get_queryset
    permission_classes = CATALOGUE_PERMISSIONS
    search_fields = ["name", "sku", "description", "barcode"]
    ordering_fields = PRODUCT_ORDERING
    ordering = ["name"]

    relevance_term = None  # the `?search=` ranked by relevance (no `ordering`), if any

    def search_relevance(self, queryset, term):
        """`?search=` without `ordering`: the most relevant first (core.api.OrderingFilter)."""
        self.relevance_term = term
        return selectors.by_relevance(queryset, term)

    def wants_archived(self) -> bool:
        raw = self.request.query_params.get("archived", "")
        try:
            archived = bool(StrictBooleanField().to_python(raw))
        except forms.ValidationError as exc:
            raise ValidationError({"archived": exc.messages}) from exc
        if archived and not self.request.user.has_perm("inventory.change_product"):
            self.permission_denied(
                self.request, message="Only admins and managers see archived products."
            )
        return archived

    def wants_reorder(self) -> bool | None:
        """`?needs_reorder=true|false`: products with a due reorder rule (or without)."""
        raw = self.request.query_params.get("needs_reorder", "")
        try:
            return StrictBooleanField().to_python(raw)
        except forms.ValidationError as exc:
            raise ValidationError({"needs_reorder": exc.messages}) from exc

    def get_queryset(self):
        archived = self.action in ("list", "export") and self.wants_archived()
        today = local_today(self.organization)
        catalogue = purchase_selectors.products_with_on_order(today=today).all()
        products = self.scoped(catalogue).filter(is_archived=archived)
        if self.action in ("list", "export") and (reorder := self.wants_reorder()) is not None:
            due = Q(
                pk__in=replenishment_selectors.due_product_ids(
                    organization_id=self.organization_id, today=today
                )
            )
            products = products.filter(due if reorder else ~due)
        return products

    def _fresh(self, product):
        return self.get_queryset().get(pk=product.pk)

    def list(self, request, *args, **kwargs):
        """A page of products read as values (ValuesRepresentation): the serializer's answer
        without a model instance per row."""
        rows = _rows_of(self.get_serializer_class())
        products = self.filter_queryset(self.get_queryset())  # (sets relevance_term)
        ranked = {}
        if term := self.relevance_term:  # a large result's page: found tier by tier
            ranked = {
                "candidates": functools.partial(
                    selectors.relevance_page_candidates,
                    term=term,
                    organization_id=self.organization_id,
                ),
                "among": lambda ids: selectors.by_relevance(
                    self.get_queryset().filter(pk__in=ids), term
                ),
            }
        page = self.paginator.paginate_queryset(
            products,
            request,
            view=self,
            rows=lambda queryset: queryset.values(*rows.columns),
            **ranked,
        )
        hide_costs = self.get_serializer_context()["hide_costs"]
        return self.get_paginated_response(rows(page, hide_costs=hide_costs))

    # The catalogue knows no stock: where one request changes both, stock's one service for
    # a catalogue change does it (stock.services.catalogue; DESIGN.md, dependencies).

    def perform_destroy(self, instance):
        stock_services.delete_product_with_stock(product=instance)


class ProductListFilter(ProductStockFilter):
    """The product list's filters, with what replenishment knows (applied by the view's
    queryset, as `archived`: declared here for the schema and the 400 on a bad value)."""

    needs_reorder = StrictBooleanFilter(
        method="filter_needs_reorder",
        help_text="true: products with a due reorder rule (API.md, Replenishment); false: "
        "the others.",
    )

    def filter_needs_reorder(self, queryset, name, value):
        return queryset  # chosen by the view (ProductQueryMixin.get_queryset)


class ProductViewSet(ProductQueryMixin, viewsets.ModelViewSet):
    """Products and variations: every stock-keeping unit of the catalogue."""

    serializer_class = ProductSerializer
    filterset_class = ProductListFilter
    # Read from the read replica when there is one (core.api.HeavyReadsMixin).
    heavy_actions = frozenset({"list", "export", "alerts"})

    def get_serializer_class(self):
        if self.action == "variations":
            return VariationSerializer
        return super().get_serializer_class()

    def retrieve(self, request, *args, **kwargs):
        """A product read as values, as the list reads its rows (ValuesRepresentation): the
        serializer's answer without a model instance (no object permission applies here)."""
        rows = _rows_of(self.get_serializer_class())
        products = self.filter_queryset(self.get_queryset()).values(*rows.columns)
        lookup = self.lookup_url_kwarg or self.lookup_field
        product = get_object_or_404(products, **{self.lookup_field: self.kwargs[lookup]})
        return Response(rows([product], hide_costs=self.get_serializer_context()["hide_costs"])[0])

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        quantity = fields.pop("quantity", 0)
        product = stock_services.create_product_with_stock(
            organization=request.user.organization,
            fields=ProductFields(**fields),
            quantity=quantity,
            user=request.user,
        )
        data = self.get_serializer(self._fresh(product)).data
        return Response(data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        product = self.get_object()
        serializer = self.get_serializer(
            product, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        quantity = fields.pop("quantity", None)
        stock_services.update_product_with_stock(
            product=product, changes=ProductChanges(**fields), quantity=quantity, user=request.user
        )
        return Response(self.get_serializer(self._fresh(product)).data)

    @extend_schema(request=None, responses={200: ProductSerializer})
    @action(detail=True, methods=["post"], permission_classes=[RestorePermission])
    def restore(self, request, pk=None):
        """Bring an archived product back (admin); 404 for a live one."""
        archived = super(ProductQueryMixin, self).get_queryset().filter(is_archived=True)
        product = get_object_or_404(archived, pk=pk)  # DRF's: an id that is no number is a 404
        stock_services.restore_product_with_stock(product=product)
        return Response(self.get_serializer(self._fresh(product)).data)

    @extend_schema(
        parameters=[AlertsQuerySerializer],
        responses=AlertsSerializer,
        filters=False,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def alerts(self, request):
        """The most urgent low-stock, expired and soon-expiring products, with the counts: kept
        in the shared cache until the organization's stock, catalogue or settings change (as
        the dashboard, reports.selectors.cached_dashboard) or its local day ends."""
        query = AlertsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = query.validated_data["limit"]
        days = query.validated_data.get("days", settings.ALERT_EXPIRY_DAYS)
        today = local_today(self.organization)
        key = f"alerts:{self.organization_id}:{limit}:{days}:{today}"
        data, version = cached_version(key, version_key=figures_key(self.organization_id))
        if data is None:
            with reads_for_cache():  # never a replica behind the version: core.db
                data = self._alerts(limit=limit, days=days, today=today)
            store(key, version, data, timeout=ALERTS_SECONDS)
        if self.get_serializer_context()["hide_costs"]:
            rows = _rows_of(self.get_serializer_class())
            data = {name: rows.without_costs(v) if isinstance(v, list) else v
                    for name, v in data.items()}  # fmt: skip
        return Response(data)

    def _alerts(self, *, limit: int, days: int, today) -> dict:
        products = self.get_queryset()
        lists = {
            "low_stock": selectors.most_urgent_low_stock(products),
            "expired": selectors.most_urgent_expired(products, today=today),
            "expiring_soon": stock_selectors.most_urgent_expiring(
                products, days=days, organization_id=self.organization_id, today=today
            ),
        }
        rows = _rows_of(self.get_serializer_class())
        data = {}
        for name, queryset in lists.items():
            data[name] = rows(queryset[:limit].values(*rows.columns))  # with costs: cached
            data[f"{name}_count"] = queryset.order_by().count()
        return data

    @extend_schema(responses=StockLevelSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def stock(self, request, pk=None):
        """Where the product's stock is: one row per location and lot (not paginated)."""
        product = self.get_object()
        levels = stock_selectors.held_levels().filter(product=product)
        return Response(StockLevelSerializer(levels, many=True).data)

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR, description="CSV: a header row, then one per product"
            )
        },
        filters=True,
    )
    @action(
        detail=False,
        methods=["get"],
        pagination_class=None,
        renderer_classes=[renderers.JSONRenderer, CSVRenderer],
    )
    def export(self, request):
        """The product list as a streamed CSV download, honouring the list's filters."""
        return products_csv_response(
            self.filter_queryset(self.get_queryset()),
            hide_costs=self.get_serializer_context()["hide_costs"],
            today=local_today(self.organization),
        )

    @extend_schema(
        methods=["GET"],
        responses=VariationSerializer(many=True),
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
    )
    @extend_schema(
        methods=["POST"], request=VariationSerializer, responses={201: VariationSerializer}
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def variations(self, request, pk=None):
        """A product's variations; POST adds one."""
        parent = self.get_object()
        if request.method == "GET":
            queryset = self.get_queryset().filter(parent=parent).order_by("name", "id")
            page = self.paginate_queryset(queryset)
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        quantity = fields.pop("quantity", 0)
        variation = stock_services.add_variation_with_stock(
            parent=parent, fields=VariationFields(**fields), quantity=quantity, user=request.user
        )
        data = self.get_serializer(self._fresh(variation)).data
        return Response(data, status=status.HTTP_201_CREATED)


class VariationViewSet(
    ProductQueryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Every variation of the organization's products (filter `product`)."""

    serializer_class = VariationSerializer
    filterset_class = VariationStockFilter
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().filter(parent__isnull=False)

    def update(self, request, *args, **kwargs):
        variation = self.get_object()
        serializer = self.get_serializer(variation, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        quantity = fields.pop("quantity", None)
        stock_services.update_variation_with_stock(
            variation=variation,
            changes=ProductChanges(**fields),
            quantity=quantity,
            user=request.user,
        )
        return Response(self.get_serializer(self._fresh(variation)).data)
