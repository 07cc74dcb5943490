"""API clients that authenticate as a user."""

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


def client_for(user, *, scheme="Bearer") -> APIClient:
    """An API client that authenticates as `user` with a real JWT (or DRF token)."""
    client = APIClient()
    if scheme == "Bearer":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    else:
        from rest_framework.authtoken.models import Token

        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
