"""YAML with line numbers: scenario files load into plain dicts and lists, and every
mapping remembers the line it starts on and the line of each key, so that errors can
point at `file:line`.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import ScalarNode

_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Lines:
    """Line numbers (1-based) of the mappings and sequences a document produced."""

    def __init__(self) -> None:
        self._marks: dict[int, tuple[int, dict[Any, int]]] = {}

    def add(self, obj: Any, line: int, keys: dict[Any, int] | None = None) -> None:
        """Remember where `obj` (a dict or list from the document) starts."""
        self._marks[id(obj)] = (line, keys or {})

    def of(self, obj: Any, key: Any = None, default: int = 1) -> int:
        """The line of `obj`, or of `obj[key]`'s key when known."""
        mark = self._marks.get(id(obj))
        if mark is None:
            return default
        if key is not None and key in mark[1]:
            return mark[1][key]
        return mark[0]


def load_with_lines(text: str) -> tuple[Any, Lines]:
    """Parse one YAML document; return the data and its line table. Raises yaml.YAMLError."""
    lines = Lines()

    class _Loader(_Base):  # type: ignore[misc, valid-type]
        pass

    def construct_map(loader: Any, node: yaml.MappingNode) -> Any:
        data: dict[Any, Any] = {}
        yield data
        data.update(loader.construct_mapping(node))
        keys = {
            k.value: k.start_mark.line + 1
            for k, _ in node.value
            if isinstance(k, ScalarNode) and k.value in data
        }
        lines.add(data, node.start_mark.line + 1, keys)

    def construct_seq(loader: Any, node: yaml.SequenceNode) -> Any:
        data: list[Any] = []
        yield data
        data.extend(loader.construct_sequence(node))
        lines.add(data, node.start_mark.line + 1)

    def construct_timestamp_as_text(loader: Any, node: ScalarNode) -> str:
        # Kubernetes objects carry times as strings; keep them strings so they round-trip.
        return str(node.value)

    _Loader.add_constructor("tag:yaml.org,2002:map", construct_map)
    _Loader.add_constructor("tag:yaml.org,2002:seq", construct_seq)
    _Loader.add_constructor("tag:yaml.org,2002:timestamp", construct_timestamp_as_text)
    data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    return data, lines
