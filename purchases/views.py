from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from orders.views import OrderViewSet
from purchases import selectors, services
from purchases.filters import PurchaseOrderFilter
from purchases.serializers import (
    PurchaseOrderSerializer,
    ReceiptSerializer,
    SupplierReturnSerializer,
)


class PurchaseOrderViewSet(OrderViewSet):
    """Orders to suppliers; reaching `received` adds their lines to stock once."""

    queryset = selectors.purchase_orders_with_totals()
    serializer_class = PurchaseOrderSerializer
    filterset_class = PurchaseOrderFilter
    search_fields = ["notes", "supplier__name"]
    ordering_fields = ["created_at", "expected_date", "received_at", "number", "status"]

    def create_order(self, user, data):
        return services.create_purchase_order(organization=user.organization, user=user, **data)

    def update_order(self, order, user, data):
        return services.update_purchase_order(order=order, user=user, **data)

    @extend_schema(
        request=ReceiptSerializer, responses=ReceiptSerializer(many=True), methods=["GET"]
    )
    @extend_schema(request=ReceiptSerializer, responses={201: ReceiptSerializer}, methods=["POST"])
    @action(detail=True, methods=["get", "post"], serializer_class=ReceiptSerializer)
    def receipts(self, request, pk=None):
        """GET: the order's receipts. POST: receive what arrived (some lines, or parts)."""
        return self.documents(
            request,
            serializer_class=ReceiptSerializer,
            of=selectors.receipts_of,
            record=services.record_receipt,
        )

    @extend_schema(responses=SupplierReturnSerializer(many=True), methods=["GET"])
    @extend_schema(
        request=SupplierReturnSerializer,
        responses={201: SupplierReturnSerializer},
        methods=["POST"],
    )
    @action(detail=True, methods=["get", "post"], serializer_class=SupplierReturnSerializer)
    def returns(self, request, pk=None):
        """GET: the order's returns to the supplier. POST: send goods back."""
        return self.documents(
            request,
            serializer_class=SupplierReturnSerializer,
            of=selectors.supplier_returns_of,
            record=services.record_supplier_return,
        )
