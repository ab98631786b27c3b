"""Kubernetes label and field selectors, parsed from their query-string form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class SelectorError(ValueError):
    """A selector string that does not parse."""


_SET_RE = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


@dataclass(frozen=True)
class _Req:
    key: str
    op: str  # = != in notin exists !exists
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        has = self.key in labels
        v = labels.get(self.key)
        match self.op:
            case "=":
                return has and v == self.values[0]
            case "!=":
                return not has or v != self.values[0]
            case "in":
                return has and v in self.values
            case "notin":
                return not has or v not in self.values
            case "exists":
                return has
            case "!exists":
                return not has
        raise AssertionError(self.op)


def _split_top(s: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


@dataclass(frozen=True)
class LabelSelector:
    """A parsed label selector (`app=web,tier!=db,env in (a,b),!legacy`)."""

    requirements: tuple[_Req, ...]

    @classmethod
    def parse(cls, text: str | None) -> LabelSelector | None:
        """Parse a selector string; None or empty means 'everything'."""
        if not text:
            return None
        reqs = []
        for part in _split_top(text):
            m = _SET_RE.match(part)
            if m:
                vals = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
                reqs.append(_Req(m.group(1), m.group(2), vals))
            elif "!=" in part:
                k, v = part.split("!=", 1)
                reqs.append(_Req(k.strip(), "!=", (v.strip(),)))
            elif "==" in part:
                k, v = part.split("==", 1)
                reqs.append(_Req(k.strip(), "=", (v.strip(),)))
            elif "=" in part:
                k, v = part.split("=", 1)
                reqs.append(_Req(k.strip(), "=", (v.strip(),)))
            elif part.startswith("!"):
                reqs.append(_Req(part[1:].strip(), "!exists"))
            elif re.fullmatch(r"[A-Za-z0-9./_-]+", part):
                reqs.append(_Req(part, "exists"))
            else:
                raise SelectorError(f"unable to parse requirement: {part!r}")
        return cls(tuple(reqs))

    @classmethod
    def from_match(cls, selector: dict[str, Any] | None) -> LabelSelector | None:
        """Build from a `{matchLabels, matchExpressions}` object or a plain label map."""
        if not selector:
            return None
        if "matchLabels" not in selector and "matchExpressions" not in selector:
            return cls(tuple(_Req(k, "=", (str(v),)) for k, v in selector.items()))
        reqs = [_Req(k, "=", (str(v),)) for k, v in (selector.get("matchLabels") or {}).items()]
        for e in selector.get("matchExpressions") or []:
            op = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}[
                e["operator"]
            ]
            reqs.append(_Req(e["key"], op, tuple(e.get("values") or ())))
        return cls(tuple(reqs))

    def matches(self, labels: dict[str, str]) -> bool:
        """True when every requirement holds for these labels."""
        return all(r.matches(labels) for r in self.requirements)


def field_value(obj: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (`status.phase`, `involvedObject.name`), or None."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


@dataclass(frozen=True)
class FieldSelector:
    """A parsed field selector (`status.phase=Running,spec.nodeName!=node-a`)."""

    requirements: tuple[tuple[str, str, str], ...]  # (path, op, value)

    @classmethod
    def parse(cls, text: str | None) -> FieldSelector | None:
        """Parse a field selector string; None or empty means 'everything'."""
        if not text:
            return None
        reqs = []
        for part in _split_top(text):
            for op in ("!=", "==", "="):
                if op in part:
                    k, v = part.split(op, 1)
                    reqs.append((k.strip(), "!=" if op == "!=" else "=", v.strip()))
                    break
            else:
                raise SelectorError(f"invalid field selector: {part!r}")
        return cls(tuple(reqs))

    def matches(self, obj: dict[str, Any]) -> bool:
        """True when every requirement holds for this object."""
        for path, op, want in self.requirements:
            got = field_value(obj, path)
            got_s = "" if got is None else str(got)
            if (got_s == want) != (op == "="):
                return False
        return True
