from rest_framework.routers import SimpleRouter

from inventory.views import CategoryViewSet, ProductViewSet, VariationViewSet

router = SimpleRouter()
router.register("categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")
router.register("variations", VariationViewSet, basename="variation")

urlpatterns = [*router.urls]
