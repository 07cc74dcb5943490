from rest_framework.routers import SimpleRouter

from sales.views import CustomerReturnViewSet, SalesOrderViewSet

router = SimpleRouter()
router.register("sales-orders", SalesOrderViewSet, basename="sales-order")
router.register("returns", CustomerReturnViewSet, basename="customer-return")

urlpatterns = [*router.urls]
