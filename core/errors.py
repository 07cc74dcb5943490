"""Domain errors: what a service raises when it refuses, with the data a client needs.

They carry no HTTP: the one exception handler (`core.api.exception_handler`) answers a broken
rule with 400, a state conflict with 409, a missing object with 404, so the admin, commands
and tasks call the services exactly as the API does. Nothing is changed when one is raised.
"""


class DomainError(Exception):
    """A service refused the request. `message` is a text, or a dict of field -> messages."""

    def __init__(self, message="The request was refused.", *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class BrokenRule(DomainError):
    """The input breaks a business rule (insufficient stock, a taken SKU, ...): a 400."""

    def as_data(self) -> dict:
        if isinstance(self.message, dict):
            return self.message
        if isinstance(self.message, list | tuple):  # one message per line, say
            return {self.field or "non_field_errors": [str(m) for m in self.message]}
        return {self.field or "non_field_errors": [str(self.message)]}


class Conflict(DomainError):
    """The object's current state forbids the change (an illegal status move, ...): a 409."""

    def as_data(self) -> dict:
        return {"detail": str(self.message)}


class NotFound(DomainError):
    """The object does not exist (any more) for this caller: a 404."""

    def as_data(self) -> dict:
        return {"detail": str(self.message)}


class LoginRefused(DomainError):
    """Wrong username or password: a 401."""

    def as_data(self) -> dict:
        return {"detail": str(self.message)}


class TooManyAttempts(DomainError):
    """Throttled (failed logins): a 429 after which the client may retry in `wait` seconds."""

    def __init__(self, message: str, *, wait: int):
        super().__init__(message)
        self.wait = wait

    def as_data(self) -> dict:
        return {"detail": str(self.message)}
