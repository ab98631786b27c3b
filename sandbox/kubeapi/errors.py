"""Kubernetes `Status` errors: every failure the API serves is one of these."""

from __future__ import annotations

from typing import Any

from sandbox.store import StoreError


class ApiError(Exception):
    """A request that fails with a Kubernetes Status body (code, reason, message)."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """The `Status` object kube-apiserver would send."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def bad_request(message: str) -> ApiError:
    """400: the request itself cannot be understood."""
    return ApiError(400, "BadRequest", message)


def invalid(kind: str, name: str, field: str, message: str, group: str = "") -> ApiError:
    """422 with one cause, as kube-apiserver reports validation failures."""
    return ApiError(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {field}: {message}',
        details={
            "name": name,
            "group": group,
            "kind": kind,
            "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}],
        },
    )


def method_not_allowed(supported: str) -> ApiError:
    """405 that says which operations this path does support."""
    return ApiError(
        405,
        "MethodNotAllowed",
        f"the server does not allow this method on the requested resource "
        f"(the sandbox supports {supported} here)",
    )


def from_store(err: StoreError, resource: str, name: str, group: str = "") -> ApiError:
    """Translate a store error into the Status kube-apiserver would send for `resource`."""
    what = f"{resource}.{group}" if group else resource
    details = {"name": name, "group": group, "kind": resource}
    match err.reason:
        case "NotFound":
            msg = f'{what} "{name}" not found'
        case "AlreadyExists":
            msg = f'{what} "{name}" already exists'
        case "Conflict":
            msg = (
                f'Operation cannot be fulfilled on {what} "{name}": the object has been '
                "modified; please apply your changes to the latest version and try again"
            )
        case _:
            msg = str(err)
    return ApiError(err.code, err.reason, msg, details=details)
