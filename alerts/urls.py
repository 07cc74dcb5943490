from rest_framework.routers import SimpleRouter

from alerts import views

router = SimpleRouter()
router.register("alerts", views.AlertLogViewSet, basename="alert")

urlpatterns = [*router.urls]
