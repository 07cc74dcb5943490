"""Domain errors raised by services; the API layer maps them to status codes.

Services stay free of HTTP: they raise these, and `config.api.exception_handler` answers
400 (a broken business rule) or 409 (the object's state forbids the change).
"""


class DomainError(Exception):
    """A business rule refused the request; nothing was changed (400)."""

    status_code = 400

    def __init__(self, message="The request breaks a business rule.", *, field=None):
        super().__init__(message)
        self.message = message
        self.field = field

    def as_data(self):
        if isinstance(self.message, dict):
            return self.message
        if self.field:
            return {self.field: [str(self.message)]}
        return {"non_field_errors": [str(self.message)]}


class Conflict(DomainError):
    """The object's current state forbids the change (409)."""

    status_code = 409

    def as_data(self):
        return {"detail": str(self.message)}
