from django.urls import path

from reports import views

urlpatterns = [
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/low-stock/", views.DashboardLowStockView.as_view(), name="dashboard-low-stock"),
    path("dashboard/total-sales/", views.TotalSalesView.as_view(), name="dashboard-total-sales"),
    path("dashboard/top-products/", views.TopProductsView.as_view(), name="dashboard-top-products"),
    path(
        "dashboard/sales-over-time/",
        views.SalesOverTimeView.as_view(),
        name="dashboard-sales-over-time",
    ),
]
