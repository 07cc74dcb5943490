"""How API requests authenticate: JWTs whose user comes from the shared cache, issued under the
user's current password, and DRF tokens that expire (a token older than AUTH_TOKEN_DAYS is a
401, and it is deleted)."""

import datetime

from django.conf import settings
from django.utils import timezone
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from users.selectors import signed_in_user

PASSWORD_CHANGED = "The user's password has changed; log in again."


def issued_under_current_password(token, user) -> bool:
    """Whether a JWT was issued while the user had the password they have now: every token
    carries a digest of the password hash it was issued under (SimpleJWT's CHECK_REVOKE_TOKEN
    claim, copied from a refresh token to its access tokens). A token without one (issued
    before Stockroom checked it) is refused too: its chain could outlive a password change."""
    claim = token.get(api_settings.REVOKE_TOKEN_CLAIM)
    return claim is not None and claim == get_md5_hash_password(user.password)


class CachedJWTAuthentication(JWTAuthentication):
    """`Authorization: Bearer <access JWT>`, SimpleJWT's rules (the user must exist and be
    active, and the token must have been issued under their current password), with the user
    read through `signed_in_user`: one cache round trip on most requests instead of the user,
    permission and role queries."""

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken("Token contained no recognizable user identification") from exc
        user = signed_in_user(user_id)
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        if not issued_under_current_password(validated_token, user):
            raise AuthenticationFailed(PASSWORD_CHANGED, code="password_changed")
        return user


def token_expired(token) -> bool:
    return token.created <= timezone.now() - datetime.timedelta(days=settings.AUTH_TOKEN_DAYS)


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, valid AUTH_TOKEN_DAYS days after it was issued."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            token.delete()
            raise AuthenticationFailed("Token has expired; log in again.")
        return user, token


class CachedJWTScheme(SimpleJWTScheme):
    """The schema describes it as SimpleJWT's own bearer scheme (`jwtAuth`)."""

    target_class = "users.authentication.CachedJWTAuthentication"
