"""Log signatures: repeated lines grouped into signatures with counts and first/last seen, stack
traces kept together, and classified (fatal config naming a variable, connection refused or
timeouts to a host:port, OOM, panics, auth failures).

Log text is data from the system under investigation: it is matched against patterns, quoted as
evidence, and never interpreted as instructions."""

from __future__ import annotations

import re
from typing import Any

from agents.models import Evidence, Finding, Severity

SPECIALIST = "logs"

_TS = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\s*"
)
_CONTINUATION = re.compile(
    r"^(\s+at |\s+File \"|\s+\.\.\.|Traceback|goroutine \d+|\s+\S+\.go:\d+|Caused by:|\t)"
)
_NUM = re.compile(r"\b0x[0-9a-f]+\b|\b\d+(?:\.\d+)?(?:ms|s|us)?\b", re.I)
_IP = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)

_ERRORISH = re.compile(
    r"\b(ERROR|FATAL|CRITICAL|PANIC|panic|Exception|Traceback|refused|timed? ?out|denied|unauthorized|OOM|killed)\b",
    re.I,
)

# Classes, most specific first: (tag, pattern)
_CLASSES: list[tuple[str, re.Pattern[str]]] = [
    (
        "fatal_config",
        re.compile(
            r"(?i)(config|environment variable|env var|setting|variable).*?\b([A-Z][A-Z0-9_]{2,})\b.*?(not set|missing|required|undefined|empty|invalid)|\b([A-Z][A-Z0-9_]{2,})\b (is )?(not set|missing|required|undefined)"
        ),
    ),
    (
        "oom",
        re.compile(
            r"(?i)out of memory|OutOfMemoryError|OOMKilled|cannot allocate memory|heap (space|limit)"
        ),
    ),
    (
        "auth_failure",
        re.compile(
            r"(?i)authentication failed|auth(entication)? error|unauthori[sz]ed|\b401\b|\b403\b|permission denied|invalid (password|credentials|token)|access denied|forbidden"
        ),
    ),
    (
        "connection_refused",
        re.compile(r"(?i)connection refused|ECONNREFUSED|connect: connection refused"),
    ),
    ("timeout", re.compile(r"(?i)timed? ?out|deadline exceeded|i/o timeout|ETIMEDOUT")),
    (
        "dns_failure",
        re.compile(
            r"(?i)no such host|NXDOMAIN|name or service not known|Temporary failure in name resolution"
        ),
    ),
    (
        "unreachable",
        re.compile(
            r"(?i)no healthy upstream|code = Unavailable|upstream connect error|connection reset by peer|no route to host|EHOSTUNREACH|ECONNRESET|503 Service Unavailable"
        ),
    ),
    (
        "panic",
        re.compile(
            r"(?i)\bpanic:|Traceback \(most recent call last\)|Exception in thread|unhandled exception|segmentation fault|NullPointerException"
        ),
    ),
]

# A dependency target: "upstream catalog.shop.svc:80", "dial tcp redis:6379", "host=pg-main port=5432"
_TARGET = re.compile(
    r"(?:(?<=//)|(?<![\w./:-]))((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9-]+)*):([1-9]\d{1,4})\b",
    re.I,
)
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_FILE = re.compile(r"\.(js|mjs|ts|py|go|java|kt|scala|rb|rs|c|cc|cpp|h|php|cs|ex|exs|lua|pl)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_NOT_HOSTS = {"http", "https", "tcp", "udp", "grpc", "localhost"}
_ENVVAR = re.compile(r"\b([A-Z][A-Z0-9]*_[A-Z0-9_]+|[A-Z]{3,})\b")
_ENV_STOP = {
    "ERROR",
    "FATAL",
    "INFO",
    "WARN",
    "WARNING",
    "DEBUG",
    "GET",
    "POST",
    "PUT",
    "HTTP",
    "CRITICAL",
    "PANIC",
    "OOM",
    "TCP",
    "UDP",
    "DNS",
    "URL",
}


def split_entries(text: str) -> list[tuple[str | None, str]]:
    """Log text as (timestamp, entry) pairs; continuation lines (stack frames) join their entry."""
    entries: list[tuple[str | None, str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if entries and _CONTINUATION.match(line):
            ts, body = entries[-1]
            entries[-1] = (ts, body + "\n" + line)
            continue
        m = _TS.match(line)
        entries.append((m.group(1) if m else None, line[m.end() :] if m else line.strip()))
    return entries


def signature_of(entry: str) -> str:
    """A stable key for similar lines: numbers, IPs and ids replaced by placeholders."""
    first = entry.splitlines()[0]
    s = _UUID.sub("<id>", first)
    s = _IP.sub("<ip>", s)
    s = _NUM.sub("<n>", s)
    return s.strip()


def signatures(text: str) -> list[dict[str, Any]]:
    """Grouped signatures of a log text, most frequent first: {signature, count, first_seen,
    last_seen, example, classes}."""
    groups: dict[str, dict[str, Any]] = {}
    for ts, entry in split_entries(text):
        key = signature_of(entry)
        g = groups.setdefault(
            key, {"signature": key, "count": 0, "first_seen": ts, "last_seen": ts, "example": entry}
        )
        g["count"] += 1
        if ts:
            g["first_seen"] = min(filter(None, [g["first_seen"], ts]))
            g["last_seen"] = max(filter(None, [g["last_seen"], ts]))
    out = list(groups.values())
    for g in out:
        g["classes"] = classify(g["example"])
        g["errorish"] = bool(g["classes"]) or bool(_ERRORISH.search(g["example"]))
    out.sort(key=lambda g: (-int(g["errorish"]), -g["count"]))
    return out


def classify(entry: str) -> list[str]:
    """The classes an entry belongs to (fatal_config, oom, auth_failure, connection_refused, ...)."""
    return [tag for tag, pat in _CLASSES if pat.search(entry)]


def extract_targets(entry: str) -> list[dict[str, Any]]:
    """host:port targets named in an entry, best first, with the Service and namespace when the
    host is a cluster DNS name (name, name.ns, name.ns.svc[.cluster.local]). File positions
    (`client.js:106`, `/src/main.go:58`) and clock times are not targets."""
    out = []
    for host, port in _TARGET.findall(entry):
        low = host.lower()
        if low in _NOT_HOSTS or _FILE.search(low) or _DATE.match(low):
            continue
        if _IPV4.fullmatch(host):
            out.append(
                {"host": host, "port": int(port), "service": None, "namespace": None, "ip": True}
            )
            continue
        parts = low.split(".")
        in_cluster = len(parts) <= 2 or (len(parts) >= 3 and parts[2] == "svc")
        out.append(
            {
                "host": host,
                "port": int(port),
                "service": parts[0] if in_cluster else None,
                "namespace": parts[1] if in_cluster and len(parts) > 1 else None,
                "ip": False,
            }
        )
    return sorted(out, key=_target_rank)


def _target_rank(t: dict[str, Any]) -> int:
    """Fully qualified Service names first, then name.namespace, bare names, external, IPs."""
    if t["ip"]:
        return 4
    if ".svc" in t["host"].lower():
        return 0
    if t.get("namespace"):
        return 1
    return 2 if t.get("service") else 3


def resolve_targets(
    targets: list[dict[str, Any]], services_by_ip: dict[str, dict[str, str]]
) -> list[dict[str, Any]]:
    """Targets logged by IP, named after the Service whose cluster IP it is (when one is)."""
    out = []
    for t in targets:
        svc = services_by_ip.get(t["host"]) if t.get("ip") else None
        out.append({**t, **svc} if svc else t)
    return sorted(out, key=lambda t: (t.get("service") is None, _target_rank(t)))


def extract_env_vars(entry: str) -> list[str]:
    """Upper-case identifiers that look like environment variable names."""
    return [v for v in dict.fromkeys(_ENVVAR.findall(entry)) if v not in _ENV_STOP]


DEPENDENCY_CLASSES = ("connection_refused", "timeout", "dns_failure", "unreachable")

_TITLES = {
    "unreachable": "Dependency unavailable",
    "fatal_config": "Fatal configuration error in logs",
    "oom": "Out-of-memory errors in logs",
    "auth_failure": "Authentication failures in logs",
    "connection_refused": "Connection refused to a dependency",
    "timeout": "Timeouts talking to a dependency",
    "dns_failure": "DNS lookups failing",
    "panic": "Crash / stack trace in logs",
}


def analyze_logs(resource: str, text: str, *, previous: bool = False) -> list[Finding]:
    """Findings for the classified signatures of one workload's (or Pod's) log text."""
    return analyze_signatures(resource, signatures(text), previous=previous)


def analyze_signatures(
    resource: str,
    sigs: list[dict[str, Any]],
    *,
    previous: bool = False,
    services_by_ip: dict[str, dict[str, str]] | None = None,
) -> list[Finding]:
    """Findings for already-grouped signatures (as `signatures` returns them).

    `services_by_ip` (cluster IP -> {"namespace", "service"}) names the Service behind a
    target the caller logged only by its IP."""
    findings = []
    merged: dict[tuple[str, str | None], dict[str, Any]] = {}
    for sig in sigs:
        if not sig["classes"]:
            continue
        tag = sig["classes"][0]
        example = sig["example"]
        targets = (
            resolve_targets(extract_targets(example), services_by_ip or {})
            if tag in DEPENDENCY_CLASSES
            else None
        )
        # Lines that differ only in the request path are one fact: same failure, same target.
        key = (tag, targets[0]["host"] if targets else sig["signature"])
        if key in merged:
            data = merged[key]
            data["count"] += sig["count"]
            data["first_seen"] = min(
                filter(None, [data["first_seen"], sig["first_seen"]]), default=None
            )
            data["last_seen"] = max(
                filter(None, [data["last_seen"], sig["last_seen"]]), default=None
            )
            continue
        data = {k: sig[k] for k in ("signature", "count", "first_seen", "last_seen", "classes")}
        data["example"] = example
        data["previous"] = previous
        if tag == "fatal_config":
            data["env_vars"] = extract_env_vars(example)
        if targets is not None:
            data["targets"] = targets
        merged[key] = data
    for (tag, _), data in merged.items():
        example = data["example"]
        tags = ["log_" + c for c in data["classes"]]
        summary = f"{data['count']}x {example.splitlines()[0][:300]}"
        if data["first_seen"]:
            summary += f" (first {data['first_seen']}, last {data['last_seen']})"
        findings.append(
            Finding(
                specialist=SPECIALIST,
                title=f"{_TITLES[tag]}: {resource}",
                severity=Severity.CRITICAL
                if tag in ("fatal_config", "oom", "panic")
                else Severity.WARNING,
                resource=resource,
                evidence=[
                    Evidence(
                        kind="log",
                        source=resource + (" (previous)" if previous else ""),
                        text=example[:1000],
                    )
                ],
                summary=summary,
                tags=tags,
                data=data,
            )
        )
    return findings
