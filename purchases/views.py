from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

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

    def update_order(self, order, user, changes):
        return services.update_purchase_order(order=order, user=user, changes=changes)

    @extend_schema(
        request=ReceiptSerializer, responses=ReceiptSerializer(many=True), methods=["GET"]
    )
    @extend_schema(request=ReceiptSerializer, responses={201: ReceiptSerializer}, methods=["POST"])
    @action(detail=True, methods=["get", "post"], serializer_class=ReceiptSerializer)
    def receipts(self, request, pk=None):
        """GET: the order's receipts. POST: receive what arrived (some lines, or parts)."""
        order = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            return Response(
                ReceiptSerializer(selectors.receipts_of(order), many=True, context=context).data
            )
        serializer = ReceiptSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        receipt = services.record_receipt(
            order=order,
            user=request.user,
            lines=[{**line, "item": line.pop("item_id")} for line in data["lines"]],
            location=data.get("location"),
            note=data.get("note", ""),
        )
        answer = selectors.receipts_of(order).get(pk=receipt.pk)
        return Response(
            ReceiptSerializer(answer, context=context).data,
            status=status.HTTP_201_CREATED,
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
        order = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            returns = selectors.supplier_returns_of(order)
            return Response(SupplierReturnSerializer(returns, many=True, context=context).data)
        serializer = SupplierReturnSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        returned = services.record_supplier_return(
            order=order,
            user=request.user,
            lines=[{**line, "item": line.pop("item_id")} for line in data["lines"]],
            location=data.get("location"),
            note=data.get("note", ""),
        )
        answer = selectors.supplier_returns_of(order).get(pk=returned.pk)
        return Response(
            SupplierReturnSerializer(answer, context=context).data,
            status=status.HTTP_201_CREATED,
        )
