"""Runbook tools: BM25 search over Markdown runbooks (title, alerts, symptoms, tags, body) with
a boost when an alert name matches exactly, and fetching one runbook."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import Field
from rank_bm25 import BM25Okapi

from agents.tools.base import Tool, ToolArgs, ToolError, ToolResult

_WORD = re.compile(r"[a-z0-9]+")
ALERT_BOOST = 5.0


@dataclass
class Runbook:
    """One runbook file: front matter (optional) and Markdown body."""

    path: Path
    title: str
    alerts: list[str] = field(default_factory=list)
    symptoms: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    body: str = ""

    @property
    def id(self) -> str:
        """The file stem, used by runbooks_get."""
        return self.path.stem


def load_runbooks(folder: Path | None) -> list[Runbook]:
    """Every `*.md` under `folder` (front matter keys: title, alerts, symptoms, tags)."""
    if folder is None or not Path(folder).is_dir():
        return []
    books = []
    for path in sorted(Path(folder).rglob("*.md")):
        text = path.read_text(encoding="utf-8", errors="replace")
        front: dict = {}
        if text.startswith("---"):
            end = text.find("\n---", 3)
            if end != -1:
                try:
                    front = yaml.safe_load(text[3:end]) or {}
                except yaml.YAMLError:
                    front = {}
                text = text[end + 4 :]
        title = front.get("title") or next(
            (ln[2:].strip() for ln in text.splitlines() if ln.startswith("# ")), path.stem
        )
        books.append(
            Runbook(
                path,
                str(title),
                _list(front.get("alerts")),
                _list(front.get("symptoms")),
                _list(front.get("tags")),
                text.strip(),
            )
        )
    return books


def _list(v: object) -> list[str]:
    if v is None:
        return []
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def search(
    books: list[Runbook], query: str, alert: str | None = None, k: int = 3
) -> list[tuple[Runbook, float]]:
    """The best `k` runbooks for a query, alert-name matches first."""
    if not books:
        return []
    corpus = [
        _tokens(" ".join([b.title] * 2 + b.alerts + b.symptoms + b.tags + [b.body])) for b in books
    ]
    bm = BM25Okapi(corpus)
    scores = bm.get_scores(_tokens(query + " " + (alert or "")))
    ranked = []
    for b, s in zip(books, scores, strict=True):
        if alert and alert.lower() in (a.lower() for a in b.alerts):
            s += ALERT_BOOST
        ranked.append((b, float(s)))
    ranked.sort(key=lambda x: -x[1])
    return [(b, s) for b, s in ranked[:k] if s > 0]


class SearchArgs(ToolArgs):
    query: str = Field(description="symptoms, error text, component names")
    alert: str | None = Field(None, description="alert name, boosts runbooks listing it")
    k: int = Field(3, ge=1, le=10)


class GetArgs(ToolArgs):
    id: str = Field(description="runbook id (file name without .md) from runbooks_search")


def build(runbooks_dir: Path | None) -> list[Tool]:
    """The runbook tools over one folder (loaded once)."""
    books = load_runbooks(runbooks_dir)

    def runbooks_search(a: SearchArgs) -> ToolResult:
        hits = search(books, a.query, a.alert, a.k)
        lines = [
            f"{b.id}: {b.title} (score {s:.2f}; alerts {', '.join(b.alerts) or '-'})"
            for b, s in hits
        ]
        return ToolResult(
            text="\n".join(lines) or "no matching runbook",
            data={
                "hits": [
                    {
                        "id": b.id,
                        "title": b.title,
                        "score": s,
                        "path": str(b.path),
                        "alerts": b.alerts,
                    }
                    for b, s in hits
                ]
            },
        )

    def runbooks_get(a: GetArgs) -> ToolResult:
        for b in books:
            if b.id == a.id:
                return ToolResult(
                    text=f"# {b.title}\n\n{b.body}",
                    data={"id": b.id, "title": b.title, "path": str(b.path)},
                )
        raise ToolError(f"no runbook {a.id!r}; use runbooks_search to find ids")

    return [
        Tool(
            "runbooks_search",
            "Search runbooks (BM25; an exact alert name boosts).",
            SearchArgs,
            runbooks_search,
        ),
        Tool(
            "runbooks_get",
            "One runbook's full text.",
            GetArgs,
            runbooks_get,
            narrow_hint="the runbook is long; read the section you need",
        ),
    ]
