from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status, viewsets
from rest_framework.response import Response

from core.dates import local_today
from core.filters import IdFilter
from core.permissions import RolePermission
from core.tenancy import OrganizationScopedMixin
from purchases import selectors as purchase_selectors
from purchases.serializers import PurchaseOrderSerializer
from replenishment import selectors, services
from replenishment.models import ReorderRule
from replenishment.serializers import (
    ReorderRuleSerializer,
    ReplenishmentOrdersResultSerializer,
    ReplenishmentOrdersSerializer,
    ReplenishmentQuerySerializer,
    ReplenishmentRowSerializer,
)


class ReorderRuleFilter(filters.FilterSet):
    product = IdFilter(field_name="product_id")
    location = IdFilter(field_name="location_id")
    supplier = IdFilter(field_name="supplier_id")

    class Meta:
        model = ReorderRule
        fields = ["product", "location", "supplier"]


class ReorderRuleViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """Reorder rules: per product and location, the reorder point and the level to order up to."""

    queryset = ReorderRule.objects.select_related("product")
    serializer_class = ReorderRuleSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    filterset_class = ReorderRuleFilter
    search_fields = ["product__sku", "product__name"]
    ordering_fields = ["created_at", "min_quantity", "max_quantity"]
    ordering = ["id"]

    def _fresh(self, rule):
        return self.get_queryset().get(pk=rule.pk)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = services.create_reorder_rule(
            organization=request.user.organization, **serializer.validated_data
        )
        return Response(self.get_serializer(self._fresh(rule)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        rule = self.get_object()
        serializer = self.get_serializer(
            rule, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        services.update_reorder_rule(rule=rule, **serializer.validated_data)
        return Response(self.get_serializer(self._fresh(rule)).data)

    def perform_destroy(self, instance):
        services.delete_reorder_rule(rule=instance)


class ReplenishmentView(OrganizationScopedMixin, generics.GenericAPIView):
    """What is due to be ordered: one row per due rule, by supplier then SKU (not paginated)."""

    queryset = ReorderRule.objects.all()  # the model, for the permission check
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    serializer_class = ReplenishmentRowSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        parameters=[ReplenishmentQuerySerializer], responses=ReplenishmentRowSerializer(many=True)
    )
    def get(self, request):
        query = ReplenishmentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.replenishment_rows(
            organization_id=self.organization_id,
            today=local_today(self.organization),
            location_id=query.validated_data.get("location"),
            supplier_id=query.validated_data.get("supplier"),
        )
        hide_costs = self.get_serializer_context()["hide_costs"]
        return Response(selectors.as_rows(rows, hide_costs=hide_costs))


class ReplenishmentOrdersView(OrganizationScopedMixin, generics.GenericAPIView):
    """Make the draft purchase orders for what is due: one per supplier and location."""

    queryset = ReorderRule.objects.all()  # the model: adding needs add_reorderrule
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    serializer_class = ReplenishmentOrdersSerializer

    @extend_schema(
        request=ReplenishmentOrdersSerializer, responses={201: ReplenishmentOrdersResultSerializer}
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        orders = services.create_replenishment_orders(
            organization=request.user.organization,
            user=request.user,
            location=serializer.validated_data.get("location"),
            supplier=serializer.validated_data.get("supplier"),
        )
        fresh = (
            purchase_selectors.purchase_orders_with_totals()
            .filter(pk__in=[order.pk for order in orders])
            .order_by("number")
        )
        data = PurchaseOrderSerializer(fresh, many=True, context=self.get_serializer_context()).data
        return Response({"purchase_orders": data}, status=status.HTTP_201_CREATED)
