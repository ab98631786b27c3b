"""Every planted secret is masked; the words an investigation needs survive."""

from __future__ import annotations

import pytest

from agents.redact import redact

PLANTED = [
    ("slack token xoxb-123456789012-abcdefghijklmnop", "xoxb-123456789012"),
    ("aws key AKIAIOSFODNN7EXAMPLE in env", "AKIAIOSFODNN7EXAMPLE"),
    ("Authorization: Bearer abc.def-ghi_jklmnop", "abc.def-ghi_jklmnop"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX2hlcmU", "eyJzdWIiOiIxIn0"),
    ("gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghij"),
    ("password=hunter2 user=bob", "hunter2"),
    ("secret=s3cr3tvalue", "s3cr3tvalue"),
    ("token=tok_abcdef123", "tok_abcdef123"),
    ('{"api_key": "k-999-zzz"}', "k-999-zzz"),
    ("DB_PASSWORD: correcthorse", "correcthorse"),
    ("dsn postgres://checkout:s3cr3t@pg-main.data:5432/checkout", "s3cr3t"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEA",
    ),
]


@pytest.mark.parametrize(("text", "secret"), PLANTED)
def test_planted_secret_is_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_connection_string_keeps_user_and_host() -> None:
    assert redact("postgres://user:pass@host:5432/db") == "postgres://user:***@host:5432/db"


@pytest.mark.parametrize(
    "text",
    [
        "FATAL config: required environment variable DATABASE_URL is not set",
        "dial tcp 10.96.14.7:80 -> 10.244.1.23:8081: connect: connection refused",
        'Error: secret "checkout-db" not found',
        "secret: checkout-db not found",
    ],
)
def test_evidence_without_secrets_is_unchanged(text: str) -> None:
    assert redact(text) == text
