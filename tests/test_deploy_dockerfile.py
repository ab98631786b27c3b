"""The container image's Dockerfile without a Docker engine: parsed and checked, its builder
stage's build context packaged into a wheel, and its HEALTHCHECK command run against a real
`sre-bot serve --http`. The image itself is not built here."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.conftest import REPO
from tests.support.serve_process import serve_http
from tests.support.slack_double import SlackDouble

POLICY_EXAMPLE = REPO / "deploy" / "kubernetes" / "base" / "policy.yaml"


def _dockerfile_stages() -> list[list[tuple[str, str]]]:
    """(INSTRUCTION, arguments) per build stage, continuation lines joined, comments dropped."""
    text = (REPO / "Dockerfile").read_text()
    logical, buf = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") and not buf:
            continue
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        if (buf + line).strip():
            logical.append((buf + line).strip())
        buf = ""
    stages: list[list[tuple[str, str]]] = []
    for entry in logical:
        word, _, rest = entry.partition(" ")
        if word.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((word.upper(), rest.strip()))
    return stages


def _instr(stage: list[tuple[str, str]], word: str) -> list[str]:
    return [rest for w, rest in stage if w == word]


def test_image_is_multi_stage_slim_python_311() -> None:
    stages = _dockerfile_stages()
    assert len(stages) >= 2
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", text, re.M)
    assert all(_instr(s, "FROM")[0].startswith("${PYTHON_IMAGE}") for s in stages)


def test_final_stage_runs_as_a_fixed_non_root_uid() -> None:
    final = _dockerfile_stages()[-1]
    users = _instr(final, "USER")
    assert users, "the final stage must set USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) > 0


def test_final_stage_has_no_build_tools() -> None:
    final = _dockerfile_stages()[-1]
    runs = " ".join(_instr(final, "RUN"))
    for tool in ("build-essential", "gcc", "make", "apt-get install", "pip wheel", "pip install"):
        assert tool not in runs, f"{tool!r} in the final stage"
    assert [c for c in _instr(final, "COPY")] == ["--from=builder /opt/venv /opt/venv"]


def test_entrypoint_and_healthcheck_match_the_http_server() -> None:
    final = _dockerfile_stages()[-1]
    assert json.loads(_instr(final, "ENTRYPOINT")[-1]) == ["sre-bot"]
    cmd = json.loads(_instr(final, "CMD")[-1])
    port = cmd[cmd.index("--port") + 1]
    assert cmd[:2] == ["serve", "--http"]
    assert _instr(final, "EXPOSE") == [port]
    check = _instr(final, "HEALTHCHECK")[-1]
    assert f"127.0.0.1:{port}/healthz" in check and "curl" not in check


def test_image_state_goes_to_a_volume() -> None:
    final = _dockerfile_stages()[-1]
    env = " ".join(_instr(final, "ENV"))
    store = re.search(r"SRE_BOT_STORE=(\S+)", env)
    assert store, "the image must set SRE_BOT_STORE"
    volume = json.loads(_instr(final, "VOLUME")[-1])[0]
    assert store[1].removeprefix("sqlite:///").startswith(volume + "/")
    assert Settings(store=store[1]).store == store[1]


def _healthcheck_command() -> list[str]:
    check = _instr(_dockerfile_stages()[-1], "HEALTHCHECK")[-1]
    return json.loads(check[check.index("CMD") + 3 :].strip())


def test_healthcheck_passes_against_a_real_server_and_fails_without_one(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY_EXAMPLE.read_text())
    with SlackDouble() as slack:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-0000-test",
            "SLACK_SIGNING_SECRET": "secret",
            "SRE_BOT_SLACK_API_URL": slack.base_url,
            "SRE_BOT_STORE": f"sqlite:///{tmp_path / 'state.db'}",
            "SRE_BOT_POLICY": str(policy),
        }
        with serve_http(env) as port:
            command = [
                sys.executable if a == "python" else a.replace(":3000/", f":{port}/")
                for a in _healthcheck_command()
            ]
            assert subprocess.run(command, timeout=20).returncode == 0
        assert subprocess.run(command, capture_output=True, timeout=20).returncode != 0


def _ignored(rel: str, patterns: list[str]) -> bool:
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for p in patterns:
        if p.startswith("**/"):
            if any(fnmatch.fnmatchcase(part, p[3:]) for part in parts):
                return True
        elif any(fnmatch.fnmatchcase(pre, p) for pre in prefixes):
            return True
    return False


def test_build_context_packages_into_a_wheel_with_the_console_script(tmp_path: Path) -> None:
    """The builder stage's steps without Docker: its COPYs (honouring .dockerignore) into a
    fresh context, then `pip wheel` of that context."""
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [p.strip() for p in lines if p.strip() and not p.startswith("#")]
    assert {".git", ".venv", "tests", ".env"} <= set(patterns)
    ctx = tmp_path / "ctx"
    for args in _instr(_dockerfile_stages()[0], "COPY"):
        *sources, dest = shlex.split(args)
        for src in sources:
            root = REPO / src
            files = [root] if root.is_file() else [f for f in root.rglob("*") if f.is_file()]
            for f in files:
                rel = f.relative_to(REPO).as_posix()
                if not _ignored(rel, patterns):
                    # COPY puts a file into dest/, and a folder's contents into dest/.
                    inside = f.name if root.is_file() else f.relative_to(root)
                    target = ctx / dest / inside
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(f, target)
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ctx)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    if out.returncode and "No matching distribution found for setuptools" in out.stderr:
        pytest.skip("no package index for the isolated build's setuptools")
    assert out.returncode == 0, out.stderr
    (wheel,) = tmp_path.glob("sre_bot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "sre-bot = bot.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert any(n.startswith("prompts/") and n.endswith(".md") for n in names)
    assert any(n.startswith("sandbox/scenarios/") for n in names)
    assert not any(n.startswith("tests/") or "__pycache__" in n for n in names)
