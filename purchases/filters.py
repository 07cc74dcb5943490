from django_filters import rest_framework as filters

from core.filters import IdFilter
from purchases.models import PurchaseOrder


class PurchaseOrderFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=PurchaseOrder.Status.choices)
    supplier = IdFilter(field_name="supplier_id")

    class Meta:
        model = PurchaseOrder
        fields = ["status", "supplier"]
