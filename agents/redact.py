"""Secret redaction: every tool output passes through `redact` before a model, Slack or a
terminal sees it.

Patterns are deliberately greedy: a false positive costs a few characters of context, a false
negative leaks a credential into a chat channel.
"""

from __future__ import annotations

import re

MASK = "***"

# Whole tokens that are secrets by their shape alone.
_TOKEN_PATTERNS: list[re.Pattern[str]] = [
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}"),  # Slack bot/user/app tokens
    re.compile(r"\bxapp-[A-Za-z0-9-]{8,}"),  # Slack app-level tokens
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),  # AWS access key ids
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"),  # GitHub tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}\b"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),  # JWT
    re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b"),  # common API-key shape (OpenAI-like)
]

_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
    re.DOTALL,
)

# `Authorization: Bearer abc`, `bearer abc`, `Basic abc`
_AUTH_HEADER = re.compile(r"(?i)\b(bearer|basic)\s+([A-Za-z0-9._~+/=-]{8,})")

# key=value / key: value / "key": "value" where the key names a secret.
_SECRET_KEYS = (
    r"password|passwd|pwd|secret|client[_-]?secret|token|access[_-]?token|refresh[_-]?token"
    r"|api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key"
)
_KEY_VALUE = re.compile(
    rf"""(?ix)
    (?P<key>["']?[A-Za-z0-9_.-]*(?:{_SECRET_KEYS})["']?)   # the key, possibly prefixed (DB_PASSWORD)
    (?P<sep>\s*[:=]\s*)
    (?P<q>["']?)
    (?P<val>[^\s"',;&}}]+)
    """
)

# scheme://user:pass@host  ->  scheme://user:***@host
_URL_CREDENTIALS = re.compile(r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:)(?P<pw>[^\s@/]+)@")


# Every pattern above needs one of these; most strings (names, labels, ordinary log lines)
# have none and skip the dozen substitutions. Case-insensitive, so it is a superset.
_MAYBE_SECRET = re.compile(
    r"(?i)-----BEGIN|://|bearer|basic|xox|xapp-|AKIA|ASIA|gh[pousr]_|github_pat_|eyJ|sk-"
    r"|passw|pwd|secret|token|key"
)


def redact(text: str) -> str:
    """Return `text` with credentials masked; everything else is left intact."""
    if not text or not _MAYBE_SECRET.search(text):
        return text
    out = _PRIVATE_KEY.sub("-----PRIVATE KEY REDACTED-----", text)
    out = _URL_CREDENTIALS.sub(lambda m: f"{m.group('pre')}{MASK}@", out)
    out = _AUTH_HEADER.sub(lambda m: f"{m.group(1)} {MASK}", out)
    for pattern in _TOKEN_PATTERNS:
        out = pattern.sub(MASK, out)
    out = _KEY_VALUE.sub(_mask_value, out)
    return out


def _mask_value(m: re.Match[str]) -> str:
    val = m.group("val")
    key = m.group("key")
    # "secret: checkout-db not found" is a log talking *about* a Secret, not leaking one: a bare,
    # unquoted "secret:"/"token:" is prose; quoted keys, "=" and prefixed keys (DB_TOKEN:) are data.
    if ":" in m.group("sep") and key.lower() in {"secret", "token"}:
        return m.group(0)
    # Already masked, or an obviously non-secret word such as "token=" followed by nothing useful.
    if val == MASK or val.startswith(MASK) or val.lower() in {"true", "false", "null", "none"}:
        return m.group(0)
    return f"{key}{m.group('sep')}{m.group('q')}{MASK}"
