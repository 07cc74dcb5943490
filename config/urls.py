from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.views import HealthView

api_patterns = [
    path("health/", HealthView.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("users.urls")),
    path("", include("inventory.urls")),
    path("", include("suppliers.urls")),
    path("", include("stock.urls")),
    path("", include("purchases.urls")),
    path("", include("sales.urls")),
    path("", include("stocktakes.urls")),
    path("", include("replenishment.urls")),
    path("", include("reports.urls")),
    path("", include("alerts.urls")),
    path("", include("webhooks.urls")),
    path("", include("core.urls")),
    path("", include("imports.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
]
