"""API clients that authenticate as a user, and a new shop registered through the API."""

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


def register(client, **overrides):
    """POST /api/register/: a new shop ("New Shop Ltd") and its first admin, `overrides` (a
    field's other value, a time zone, a currency) applied."""
    body = {
        "username": "newshop",
        "email": "owner@newshop.example",
        "password": "a-long-unusual-passphrase",
        "organization": "New Shop Ltd",
        **overrides,
    }
    return client.post("/api/register/", body, format="json")
