"""Workloads whose Pods fail (crash loops, OOM kills, image pulls, config errors, readiness):
blamed on the latest rollout when it changed the template and the previous revision was
healthy (fix: roll back), else on the workload itself (fix: the narrowest change that helps)."""

from __future__ import annotations

import re

from agents.analyzers.quotas import quantity
from agents.correlation.candidate import (
    POD_FAILURES,
    Candidate,
    find,
    find_all,
    has,
    kref,
    ns_of,
    workload_callers,
)
from agents.models import Category, Finding, Proposal, Verb

WORKLOAD_KINDS = ("Deployment/", "StatefulSet/")


def workload_failures(findings: list[Finding]) -> list[Candidate]:
    """One candidate per failing workload, with a rollback when a rollout explains it."""
    out = []
    for i, f in enumerate(findings):
        tags = set(f.tags)
        if not (POD_FAILURES & tags) or not f.resource or not f.resource.startswith(WORKLOAD_KINDS):
            continue
        if "unschedulable" in tags and (
            has(findings, "nodeselector_mismatch", f.resource)
            or any("cordoned" in g.tags for g in findings)
        ):
            continue  # the scheduling rule explains it better
        cited = [i] + workload_callers(findings, f.resource)
        category = category_of(tags, findings, f.resource)
        rollout = find(findings, "rollout", f.resource)
        if rollout is not None and "previous_healthy" in findings[rollout].tags:
            r = findings[rollout]
            cited.insert(1, rollout)
            diff = r.data.get("diff") or []
            changes = "; ".join(c["text"] for c in diff) or "pod template unchanged"
            headline = (
                f"revision {r.data['revision']} broke it ({f.summary}); the previous revision "
                f"{r.data['previous_revision']} was healthy. Changes: {changes}"
            )
            out.append(
                Candidate(
                    f.resource,
                    category,
                    0.9 if diff else 0.75,
                    headline,
                    cited,
                    [undo(f.resource, r, changes)],
                )
            )
            continue
        cited += find_all(findings, "config_ref_missing", f.resource)
        drift = _drifted_config(findings, f.resource)
        if drift is not None and "oomkilled" not in tags:
            out.append(_restore_config(findings, drift, cited))
            continue
        proposals = [p for p in [_raise_memory(f)] if p is not None]
        out.append(Candidate(f.resource, category, 0.6, f.summary, cited, proposals))
    return out


def _drifted_config(findings: list[Finding], workload: str) -> int | None:
    return next(
        (
            i
            for i, g in enumerate(findings)
            if "config_drift" in g.tags and g.data.get("workload") == workload
        ),
        None,
    )


def _restore_config(findings: list[Finding], drift: int, cited: list[int]) -> Candidate:
    """Pods fail with no rollout to blame, and a ConfigMap they read was edited in place since
    its last apply: the edit is the change, and the applied values are the way back."""
    d = findings[drift]
    keys = ", ".join(d.data["restore"])
    failing = findings[cited[0]]
    prop = Proposal(
        verb=Verb.PATCH,
        target=d.resource or "",
        parameters={"patch_type": "merge", "patch": {"data": d.data["restore"]}},
        rationale=f"restore key(s) {keys} of {d.resource} to their last applied values",
        expected_effect=f"{failing.resource}'s Pods start with the configuration that worked",
        verification=f"{kref(failing.resource or '')} pods Ready, no restarts",
        undo=f"re-apply the edited value(s) of {keys}",
    )
    headline = f"{d.summary}; since then {failing.resource}: {failing.summary}"
    score = 0.85 if d.data.get("edited_at") else 0.8
    return Candidate(
        d.resource or "", Category.MISCONFIGURATION, score, headline, [drift, *cited], [prop]
    )


def category_of(tags: set[str], findings: list[Finding], resource: str) -> Category:
    """The category a failing workload's symptoms and history point to."""
    if "oomkilled" in tags:
        return Category.RESOURCE_EXHAUSTION
    if has(findings, "log_auth_failure", resource):
        return Category.AUTHENTICATION_ISSUE
    rollout = find(findings, "rollout", resource)
    diff = (findings[rollout].data.get("diff") or []) if rollout is not None else []
    fields = {c["field"] for c in diff}
    if (
        "crashloop" in tags
        and fields <= {"image"}
        and (
            has(findings, "log_panic", resource) or (diff and not _config_logs(findings, resource))
        )
    ):
        # Only the image changed and the new build crashes: the release itself is broken.
        return Category.CODE_DEFECT
    if not diff and workload_callers(findings, resource):
        # Nothing we can see changed it, and others fail because of it: a failing dependency.
        return Category.DEPENDENCY_FAILURE
    return Category.MISCONFIGURATION


def _config_logs(findings: list[Finding], resource: str) -> bool:
    return has(findings, "log_fatal_config", resource) or has(
        findings, "config_ref_missing", resource
    )


def undo(resource: str, rollout: Finding, changes: str) -> Proposal:
    """Roll `resource` back to the revision before the rollout `rollout` describes."""
    prev, rev = rollout.data["previous_revision"], rollout.data["revision"]
    return Proposal(
        verb=Verb.ROLLOUT_UNDO,
        target=resource,
        parameters={"to_revision": prev},
        rationale=f"Roll back to revision {prev}, the last healthy template ({changes}).",
        expected_effect="Pods return to the previous template and become Ready.",
        verification=f"{kref(resource)} rollout complete, all pods Ready, 5xx ratio < 1%",
        undo=f"kubectl rollout undo {kref(resource)} -n {ns_of(resource)} --to-revision={rev}",
    )


def _raise_memory(f: Finding) -> Proposal | None:
    """OOM kills with no rollout to blame: double the container's memory limit."""
    if "oomkilled" not in f.tags or not f.data.get("container"):
        return None
    limit = (f.data.get("limits") or {}).get("memory")
    raised = double_quantity(limit) if limit else None
    if not raised:
        return None
    return Proposal(
        verb=Verb.SET_RESOURCES,
        target=f.resource or "",
        parameters={"container": f.data["container"], "limits": {"memory": raised}},
        rationale=f"container {f.data['container']} is OOMKilled at its {limit} memory limit",
        expected_effect=f"with {raised} the container stays up and its Pods become Ready",
        verification=f"{kref(f.resource or '')} pods Ready, no new OOMKilled terminations",
        undo=f"set the memory limit back to {limit}",
    )


MIN_RAISED_MEMORY = 2**30  # a raised limit below 1Gi rarely survives the next peak


def double_quantity(value: str) -> str | None:
    """A memory quantity doubled, keeping its unit ("768Mi" -> "1536Mi"), and at least 1Gi."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([A-Za-z]*)", str(value).strip())
    if not m or m.group(2) not in _BYTE_SUFFIXES:
        return None
    number = float(m.group(1)) * 2
    if quantity(value) * 2 < MIN_RAISED_MEMORY:
        return "1Gi"
    text = str(int(number)) if number.is_integer() else f"{number:g}"
    return text + m.group(2)


_BYTE_SUFFIXES = ("", "k", "M", "G", "T", "Ki", "Mi", "Gi", "Ti")  # not "m": milli-bytes
