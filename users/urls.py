from django.urls import path
from rest_framework.routers import SimpleRouter

from users import views

router = SimpleRouter()
router.register("users", views.UserViewSet, basename="user")
router.register("groups", views.GroupViewSet, basename="group")
router.register("permissions", views.PermissionViewSet, basename="permission")

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("token/", views.ThrottledTokenObtainPairView.as_view(), name="token_obtain_pair"),
    path("token/refresh/", views.RefreshTokenView.as_view(), name="token_refresh"),
    path("token/verify/", views.VerifyTokenView.as_view(), name="token_verify"),
    # Before the router, so "me" is not taken for a user id.
    path("users/me/", views.MeView.as_view(), name="user-me"),
    path("users/me/password/", views.MePasswordView.as_view(), name="user-me-password"),
    path("organization/", views.OrganizationView.as_view(), name="organization"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password-reset/confirm/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    *router.urls,
]
