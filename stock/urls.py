from rest_framework.routers import SimpleRouter

from stock import views

router = SimpleRouter()
router.register("stock/movements", views.StockMovementViewSet, basename="stock-movement")
router.register("stock/levels", views.StockLevelViewSet, basename="stock-level")
router.register("stock/transfers", views.TransferViewSet, basename="stock-transfer")
router.register("locations", views.LocationViewSet, basename="location")
router.register("lots", views.LotViewSet, basename="lot")

urlpatterns = [*router.urls]
