from rest_framework.routers import SimpleRouter

from purchases.views import PurchaseOrderViewSet

router = SimpleRouter()
router.register("purchase-orders", PurchaseOrderViewSet, basename="purchase-order")

urlpatterns = [*router.urls]
