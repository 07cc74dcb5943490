from rest_framework.routers import SimpleRouter

from suppliers.views import SupplierProductViewSet, SupplierViewSet

router = SimpleRouter()
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("supplier-products", SupplierProductViewSet, basename="supplier-product")

urlpatterns = [*router.urls]
