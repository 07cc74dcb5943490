"""DRF tokens that expire: a token older than AUTH_TOKEN_DAYS is a 401, and it is deleted."""

import datetime

from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


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
