"""Password-reset tokens: what the reset email carries (users.tasks) and the confirmation
checks (users.services), in a module of their own so that neither imports the other."""

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from users.models import User


def reset_token_for(user: User) -> tuple[str, str]:
    """(uid, token): Django's own generator; valid PASSWORD_RESET_TIMEOUT seconds, and only
    until the password (or the last login) changes."""
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)
