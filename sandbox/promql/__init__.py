"""The sandbox's PromQL engine: Prometheus 2.42 semantics over a SeriesSource.

`instant_query(source, "rate(x[5m])", ts)` and `range_query(...)` parse with
the `promql_parser` library, evaluate against `source.series(start, end)` and
raise PromQLError subclasses (BadData, Unsupported, ExecutionError) that carry
the HTTP API's errorType.
"""

from sandbox.promql.engine import (
    RangeResult,
    SeriesSource,
    StaticSeriesSource,
    instant_query,
    range_query,
)
from sandbox.promql.errors import BadData, ExecutionError, PromQLError, Unsupported
from sandbox.promql.values import Matrix, RangeSeries, Sample, Scalar, String

__all__ = [
    "BadData",
    "ExecutionError",
    "Matrix",
    "PromQLError",
    "RangeResult",
    "RangeSeries",
    "Sample",
    "Scalar",
    "SeriesSource",
    "StaticSeriesSource",
    "String",
    "Unsupported",
    "instant_query",
    "range_query",
]
