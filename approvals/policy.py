"""The approval policy: how much autonomy each target has, what each verb risks, who may approve.

Loaded from `SRE_BOT_POLICY` (YAML). A policy with a mistake is refused whole, with
file, line and reason: sre-bot never runs with a half-read policy.
"""

from __future__ import annotations

import difflib
import fnmatch
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.models import Proposal, Verb


class PolicyError(Exception):
    """A policy file that cannot be used; the message names the file, the line and the fix."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path, self.line, self.message = str(path), line, message
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


class Autonomy(StrEnum):
    """Four stages of adoption, from watching to acting."""

    OBSERVE = "observe"  # investigate only
    ADVISE = "advise"  # propose with the kubectl command, no buttons
    APPROVE = "approve"  # every change waits for an approval
    AUTO = "auto"  # reversible changes run at once under the kill switch


class Risk(StrEnum):
    """What a change can cost if it is wrong."""

    READ_ONLY = "read-only"
    REVERSIBLE = "reversible"
    DESTRUCTIVE = "destructive"


class Confirmation(StrEnum):
    """What keeps an applied fix past its kill-switch deadline."""

    HEALTH = "health"  # verification passes
    HUMAN = "human"  # a person presses Keep (like `commit confirmed`)
    EITHER = "either"


_VERB_RISK: dict[Verb, Risk] = {
    Verb.ROLLOUT_UNDO: Risk.REVERSIBLE,
    Verb.ROLLOUT_RESTART: Risk.REVERSIBLE,
    Verb.SCALE: Risk.REVERSIBLE,
    Verb.SET_IMAGE: Risk.REVERSIBLE,
    Verb.SET_ENV: Risk.REVERSIBLE,
    Verb.SET_RESOURCES: Risk.REVERSIBLE,
    Verb.PATCH: Risk.REVERSIBLE,
    Verb.CORDON: Risk.REVERSIBLE,
    Verb.UNCORDON: Risk.REVERSIBLE,
    Verb.DRAIN: Risk.DESTRUCTIVE,
    Verb.DELETE: Risk.DESTRUCTIVE,
}


def risk_of(proposal: Proposal) -> Risk:
    """The risk of a proposal: the verb's, raised to destructive for a scale to zero."""
    if proposal.verb == Verb.SCALE and int(proposal.parameters.get("replicas", 1) or 0) == 0:
        return Risk.DESTRUCTIVE
    return _VERB_RISK[proposal.verb]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Match(_Strict):
    """Which targets a rule covers: namespace globs and/or a label subset."""

    namespaces: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)

    def covers(self, namespace: str | None, labels: dict[str, str]) -> bool:
        """True when the target's namespace and labels satisfy this match."""
        if self.namespaces and not any(
            fnmatch.fnmatchcase(namespace or "", p) for p in self.namespaces
        ):
            return False
        return all(labels.get(k) == v for k, v in self.labels.items())


class AutonomyRule(_Strict):
    """An autonomy level for the targets a match covers; the first matching rule wins."""

    match: Match
    autonomy: Autonomy


class Approvers(_Strict):
    """Who may approve: Slack user ids and user-group handles."""

    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    two_person_for_destructive: bool = True


class Protected(_Strict):
    """Resources sre-bot never touches."""

    namespaces: list[str] = Field(default_factory=lambda: ["kube-system"])
    resources: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=lambda: {"sre-bot.io/protected": "true"})


class ApprovalPolicy(_Strict):
    """The whole policy. Every field has a safe default; an empty file is a valid policy."""

    default_autonomy: Autonomy = Autonomy.APPROVE
    autonomy: list[AutonomyRule] = Field(default_factory=list)
    approvers: Approvers = Field(default_factory=Approvers)
    protected: Protected = Field(default_factory=Protected)
    approval_ttl_seconds: int = Field(1800, gt=0)
    kill_switch_seconds: int | None = Field(None, gt=0)
    confirmation: Confirmation = Confirmation.HEALTH

    def autonomy_for(self, namespace: str | None, labels: dict[str, str] | None = None) -> Autonomy:
        """The autonomy level of a target."""
        for rule in self.autonomy:
            if rule.match.covers(namespace, labels or {}):
                return rule.autonomy
        return self.default_autonomy

    def is_protected(self, ref: str, labels: dict[str, str] | None = None) -> bool:
        """True for resources that must never be changed."""
        parts = ref.split("/")
        namespace = parts[1] if len(parts) == 3 else None
        if parts[0] == "Namespace" and len(parts) == 2:
            namespace = parts[1]
        if namespace and any(fnmatch.fnmatchcase(namespace, p) for p in self.protected.namespaces):
            return True
        if ref in self.protected.resources:
            return True
        labels = labels or {}
        return bool(self.protected.labels) and all(
            labels.get(k) == v for k, v in self.protected.labels.items()
        )

    def may_approve(self, user: str, user_groups: list[str] | None = None) -> bool:
        """True when the user (or one of their groups) is an approver."""
        if user in self.approvers.users:
            return True
        return any(g in self.approvers.groups for g in user_groups or [])


def load_policy(path: Path | str | None, *, approvers: list[str] | None = None) -> ApprovalPolicy:
    """Read a policy file (None: the defaults) and add the `SRE_BOT_APPROVERS` shorthand."""
    if path is None:
        policy = ApprovalPolicy()
    else:
        policy = _parse(Path(path))
    if approvers:
        extra = [a for a in approvers if a not in policy.approvers.users]
        policy.approvers.users.extend(extra)
    return policy


def _parse(path: Path) -> ApprovalPolicy:
    try:
        text = path.read_text()
    except OSError as e:
        raise PolicyError(path, None, f"cannot read the policy file: {e.strerror}") from None
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise PolicyError(path, mark.line + 1 if mark else None, f"not valid YAML: {e}") from None
    if data is None:
        return ApprovalPolicy()
    if not isinstance(data, dict):
        raise PolicyError(path, 1, "the policy must be a mapping of settings (see the README)")
    try:
        return ApprovalPolicy.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = list(err["loc"])
        line = _line_of(root, loc)
        field = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            known = _known_keys(loc[:-1])
            hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
            msg = f"unknown key {field!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
            msg += f" (known: {', '.join(sorted(known))})"
        else:
            msg = f"{field}: {err['msg']}"
        raise PolicyError(path, line, msg) from None


def _known_keys(loc: list[Any]) -> list[str]:
    model: type[BaseModel] = ApprovalPolicy
    for part in loc:
        if isinstance(part, int):
            continue
        ann = model.model_fields[str(part)].annotation
        inner = getattr(ann, "__args__", (ann,))[0] if hasattr(ann, "__args__") else ann
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            model = inner
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
    return list(model.model_fields)


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int | None:
    """The 1-based line of the YAML node at `loc` (or of its nearest existing parent)."""
    line = node.start_mark.line + 1 if node else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next(
                (
                    (k, v)
                    for k, v in node.value
                    if isinstance(k, yaml.ScalarNode) and k.value == str(part)
                ),
                None,
            )
            if nxt is None:
                return line
            line, node = nxt[0].start_mark.line + 1, nxt[1]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
