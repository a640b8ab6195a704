"""One exception tree for the hub; HTTP responses are made from it in one place.

    BayanihanError            status 400, the base
    ├── InvalidInput          400, a field is wrong (``fields`` names the paths)
    ├── NotAuthenticated      401
    ├── Forbidden             403
    ├── NotFound              404
    ├── NotAcceptable         406
    ├── Conflict              409
    ├── TooLarge              413
    ├── UnsupportedMediaType  415
    └── Unprocessable         422
"""

from __future__ import annotations

from collections.abc import Iterable


class BayanihanError(Exception):
    status = 400
    error = "bad-request"

    def __init__(
        self,
        detail: str,
        fields: Iterable[str] = (),
        *,
        status: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fields = list(fields)
        if status is not None:
            self.status = status

    def body(self) -> dict[str, object]:
        return {"error": self.error, "detail": self.detail, "fields": self.fields}


class InvalidInput(BayanihanError):
    status = 400
    error = "invalid-input"


class NotAuthenticated(BayanihanError):
    status = 401
    error = "not-authenticated"


class Forbidden(BayanihanError):
    status = 403
    error = "forbidden"


class NotFound(BayanihanError):
    status = 404
    error = "not-found"


class NotAcceptable(BayanihanError):
    status = 406
    error = "not-acceptable"


class Conflict(BayanihanError):
    status = 409
    error = "conflict"


class TooLarge(BayanihanError):
    status = 413
    error = "too-large"


class UnsupportedMediaType(BayanihanError):
    status = 415
    error = "unsupported-media-type"


class Unprocessable(BayanihanError):
    status = 422
    error = "unprocessable"
