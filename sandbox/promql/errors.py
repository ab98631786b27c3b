"""PromQL errors, in the two kinds Prometheus's HTTP API tells apart."""

from __future__ import annotations


class PromQLError(Exception):
    """Base of every PromQL error; `error_type` is the API's `errorType`."""

    error_type = "execution"
    http_status = 422


class BadData(PromQLError):
    """The query (or a parameter) is malformed: HTTP 400, errorType bad_data."""

    error_type = "bad_data"
    http_status = 400


class Unsupported(BadData):
    """A valid PromQL construct the sandbox does not evaluate; names the construct."""

    def __init__(self, construct: str) -> None:
        super().__init__(f"{construct} is not supported by the sandbox")
        self.construct = construct


class ExecutionError(PromQLError):
    """The query parsed but cannot be evaluated (as Prometheus: HTTP 422, errorType execution)."""
