from rest_framework.routers import SimpleRouter

from stock.views import StockMovementViewSet

router = SimpleRouter()
router.register("stock/movements", StockMovementViewSet, basename="stock-movement")

urlpatterns = [*router.urls]
