from django.urls import path
from rest_framework.routers import SimpleRouter

from replenishment.views import ReorderRuleViewSet, ReplenishmentOrdersView, ReplenishmentView

router = SimpleRouter()
router.register("reorder-rules", ReorderRuleViewSet, basename="reorder-rule")

urlpatterns = [
    path("replenishment/", ReplenishmentView.as_view(), name="replenishment"),
    path("replenishment/orders/", ReplenishmentOrdersView.as_view(), name="replenishment-orders"),
    *router.urls,
]
