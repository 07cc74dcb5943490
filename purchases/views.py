from orders.views import OrderViewSet
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

    def create_order(self, user, data):
        return services.create_purchase_order(organization=user.organization, user=user, **data)

    def update_order(self, order, user, changes):
        return services.update_purchase_order(order=order, user=user, changes=changes)
