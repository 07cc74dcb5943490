"""Webhook secrets at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from the
`cryptography` package) under a key derived from SECRET_KEY by HKDF, so that a database dump
alone does not give them away, while the workers can still sign with them. Rotating SECRET_KEY
means setting each webhook's secret again (a PATCH)."""

import base64
import hashlib
import hmac
import secrets as random

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _fernet() -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"stockroom.webhooks.secret"
    ).derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def new_secret() -> str:
    return f"whsec_{random.token_urlsafe(32)}"


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def signature(secret: str, body: bytes) -> str:
    """The `X-Stockroom-Signature` header's value: `sha256=<hex HMAC-SHA256 of the body>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
