from rest_framework.routers import SimpleRouter

from imports import views

router = SimpleRouter()
router.register("imports", views.ImportJobViewSet, basename="import")

urlpatterns = [*router.urls]
