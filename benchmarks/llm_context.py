"""Benchmark: characters of context the LLM engine sends to models for one incident.

    .venv/bin/python benchmarks/llm_context.py

A scripted model (no network) plays the supervisor, the four specialists and the diagnosis
against a real sandbox with the real tools, so tool outputs are the real, bounded ones.
Prints the characters sent per agent and in total, and the bound the budget guarantees.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agents.graph import Progress, build_graph  # noqa: E402
from agents.intake import intake  # noqa: E402
from agents.investigation import SPECIALISTS, cluster_inventory  # noqa: E402
from agents.llm.context import ContextMeter, LLMBudget  # noqa: E402
from agents.llm.team import llm_team  # noqa: E402
from agents.tools.base import tools_for  # noqa: E402
from agents.tools.cluster import Cluster  # noqa: E402
from bot.eval import trigger_of  # noqa: E402
from sandbox.scenario import load_scenario  # noqa: E402
from sandbox.server import Sandbox  # noqa: E402
from tests.support.fake_models import ScriptedChatModel, ai, call  # noqa: E402

SCENARIO = REPO / "tests" / "data" / "shared_scenarios" / "checkout-missing-env.yaml"


def _answer(summary: str) -> str:
    return json.dumps({"summary": summary, "findings": []})


def scripted_model() -> ScriptedChatModel:
    """A plausible run: delegate to all four, two tool calls each, then diagnose."""
    final = {
        "diagnosis": {
            "root_cause": "Deployment/shop/checkout-api",
            "category": "Misconfiguration",
            "confidence": 0.8,
            "summary": "checkout-api revision 7 lacks DATABASE_URL",
        },
        "proposals": [
            {"verb": "rollout_undo", "target": "Deployment/shop/checkout-api", "rationale": "r6 ok"}
        ],
    }
    return ScriptedChatModel(
        scripts={
            "supervisor": [
                ai(
                    "",
                    *(
                        call(f"ask_{n}", question="checkout-api in shop: what is wrong?")
                        for n in SPECIALISTS
                    ),
                ),
                ai("checkout-api's latest rollout dropped DATABASE_URL."),
            ],
            "kubernetes": [
                ai(
                    "",
                    call("k8s_list_pods", namespace="shop"),
                    call("k8s_events", namespace="shop"),
                ),
                ai("", call("k8s_rollout_history", namespace="shop", name="checkout-api")),
                ai(_answer("checkout-api crash-loops since revision 7.")),
            ],
            "metrics": [
                ai(
                    "",
                    call("metrics_error_ratio", namespace="shop"),
                    call("metrics_restarts", namespace="shop"),
                ),
                ai(_answer("5xx on checkout-api since 10:05.")),
            ],
            "logs": [
                ai("", call("logs_signatures", namespace="shop", selector="app=checkout-api")),
                ai(_answer("FATAL: DATABASE_URL is not set.")),
            ],
            "runbooks": [
                ai("", call("runbooks_search", query="crashloop missing environment variable")),
                ai(_answer("The CrashLoopBackOff runbook says to compare the last rollout.")),
            ],
            "diagnose": [ai(json.dumps(final))],
        }
    )


def main() -> int:
    """Run the scripted incident and print the characters sent against the bound."""
    budget, meter, model = LLMBudget(), ContextMeter(), scripted_model()
    sb = Sandbox(SCENARIO, port=0).start()
    try:
        cluster = Cluster.connect(sb.kubeconfig, sb.prometheus_url)
        inventory = cluster_inventory(cluster)
        toolsets = {n: tools_for(n, cluster, None) for n in SPECIALISTS}
        team = llm_team(
            toolsets,
            lambda t, iid, hint: intake(t, iid, inventory=inventory, hint=hint),
            Progress("bench", None),
            model=model,
            budget=budget,
            meter=meter,
        )
        trigger = trigger_of(load_scenario(SCENARIO), sb.world)
        state = build_graph(team).invoke(
            {"trigger": trigger, "incident_id": "bench", "max_rounds": 2, "findings": []}
        )
    finally:
        sb.stop()
    per_agent: dict[str, int] = defaultdict(int)
    for sent in model.sent:
        per_agent[sent.agent] += sent.chars
    bound = budget.max_chars_per_incident(max_rounds=2)
    print(f"LLM context for one scripted incident ({SCENARIO.stem}):")
    for agent, chars in sorted(per_agent.items(), key=lambda kv: -kv[1]):
        calls = len(model.sent_to(agent))
        print(f"  {agent:12s} {calls:2d} call(s) {chars:8,d} chars")
    print(f"  total        {meter.calls:2d} call(s) {meter.chars_sent:8,d} chars")
    print(
        f"  largest single call: {meter.largest_call:,d} chars "
        f"(per-conversation cap {budget.max_context_chars:,d} + prompt)"
    )
    print(
        f"  bound per incident: {bound:,d} chars "
        f"({budget.supervisor_steps} supervisor steps, {budget.max_delegations} questions/round, "
        f"{budget.specialist_steps} steps each, tool output <= {budget.max_tool_chars:,d})"
    )
    print(f"  diagnosis: {state['diagnosis'].root_cause} ({state['diagnosis'].category.value})")
    return 0 if meter.chars_sent <= bound else 1


if __name__ == "__main__":
    sys.exit(main())
