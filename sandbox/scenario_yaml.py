"""YAML with line numbers: scenario files load into plain dicts and lists, and every mapping
and list remembers its YAML node, so that errors can point at `file:line`.

The C parser composes the node tree; the conversion to Python is ours because the stock
constructor (and its implicit-tag resolver) is several times slower on large files.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_PLAIN_TAGS: dict[str, str] = {}


class _Loader(_Base):  # type: ignore[misc, valid-type]
    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # Plain scalars repeat a lot (keys, small values); the stock resolver runs its
        # regexes for every one of them.
        if kind is ScalarNode and implicit[0]:
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(_PLAIN_TAGS) < 100_000:
                    _PLAIN_TAGS[value] = tag
            return tag
        return super().resolve(kind, value, implicit)


class Lines:
    """Line numbers (1-based) of the mappings and lists a document produced."""

    def __init__(self) -> None:
        self._nodes: dict[int, Node] = {}

    def add(self, obj: Any, node: Node) -> None:
        """Remember the node `obj` (a dict or list from the document) came from."""
        self._nodes[id(obj)] = node

    def of(self, obj: Any, key: Any = None, default: int = 1) -> int:
        """The line of `obj`, or of `obj[key]`'s key when known."""
        node = self._nodes.get(id(obj))
        if node is None:
            return default
        if key is not None and isinstance(node, MappingNode):
            for k, _ in node.value:
                if isinstance(k, ScalarNode) and k.value == str(key):
                    return k.start_mark.line + 1
        return node.start_mark.line + 1


class _Converter:
    def __init__(self, lines: Lines) -> None:
        self.lines = lines
        self.scalars = SafeConstructor()

    def scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if tag == _STR:
            return node.value
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return self.scalars.construct_yaml_bool(node)
        if tag == "tag:yaml.org,2002:int":
            return self.scalars.construct_yaml_int(node)
        if tag == "tag:yaml.org,2002:float":
            return self.scalars.construct_yaml_float(node)
        # Timestamps stay text, as Kubernetes objects carry them; other tags: their text.
        return node.value

    def convert(self, node: Node) -> Any:
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if isinstance(node, MappingNode):
            if any(k.tag == _MERGE for k, _ in node.value):
                self.scalars.flatten_mapping(node)
            out: dict[Any, Any] = {}
            for k, v in node.value:
                key = self.scalar(k) if isinstance(k, ScalarNode) else str(self.convert(k))
                out[key] = self.convert(v)
            self.lines.add(out, node)
            return out
        if isinstance(node, SequenceNode):
            items = [self.convert(v) for v in node.value]
            self.lines.add(items, node)
            return items
        raise yaml.constructor.ConstructorError(None, None, "unexpected node", node.start_mark)


def load_with_lines(text: str) -> tuple[Any, Lines]:
    """Parse one YAML document; return the data and its line table. Raises yaml.YAMLError."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    lines = Lines()
    if node is None:
        return None, lines
    return _Converter(lines).convert(node), lines
