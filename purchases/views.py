from config.orders import OrderViewSet
from purchases import selectors, services
from purchases.filters import PurchaseOrderFilter
from purchases.serializers import PurchaseOrderSerializer


class PurchaseOrderViewSet(OrderViewSet):
    """Orders to suppliers; reaching `received` adds their lines to stock once."""

    queryset = selectors.purchase_orders_with_totals()
    serializer_class = PurchaseOrderSerializer
    filterset_class = PurchaseOrderFilter
    search_fields = ["notes", "supplier__name"]
    ordering_fields = ["created_at", "expected_date", "received_at", "number", "status"]
    create_order = staticmethod(services.create_purchase_order)
    update_order = staticmethod(services.update_purchase_order)
    delete_order = staticmethod(services.delete_purchase_order)
