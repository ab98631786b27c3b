"""Model construction from an init_chat_model string, and Bedrock prompt caching on the wire.

A local HTTP server stands in for the Bedrock runtime endpoint, so the request botocore
actually sends (the Converse API body) is what the test reads.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from langchain_core.messages import HumanMessage

from agents.llm.model import LLMConfigError, chat_model, load_prompt, system_message

MODEL = "bedrock_converse:anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.fixture
def bedrock_endpoint():
    """A Converse endpoint on loopback that records request bodies and answers 'ok'."""
    bodies: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length", 0))
            bodies.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
            reply = json.dumps(
                {
                    "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
                    "stopReason": "end_turn",
                    "usage": {"inputTokens": 10, "outputTokens": 1, "totalTokens": 11},
                    "metrics": {"latencyMs": 1},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", bodies
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_the_default_provider_string_builds_a_bedrock_converse_model(bedrock_endpoint):
    url, _ = bedrock_endpoint
    model = chat_model(MODEL, endpoint_url=url, region_name="us-east-1")
    assert type(model).__name__ == "ChatBedrockConverse"
    assert model.model_id == "anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_long_system_prompts_are_sent_to_bedrock_with_a_cache_point(bedrock_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    url, bodies = bedrock_endpoint
    model = chat_model(MODEL, endpoint_url=url, region_name="us-east-1")
    prompt = load_prompt("supervisor")
    reply = model.invoke([system_message(model, prompt), HumanMessage("checkout is down")])
    assert reply.content == "ok"
    body = bodies[0]["body"]
    assert bodies[0]["path"].endswith("/converse")
    assert body["system"] == [{"text": prompt}, {"cachePoint": {"type": "default"}}]
    assert body["messages"][0]["content"] == [{"text": "checkout is down"}]


def test_other_providers_get_a_plain_system_prompt():
    from tests.support.fake_models import ScriptedChatModel

    fake = ScriptedChatModel(scripts={})
    assert system_message(fake, "# Supervisor").content == "# Supervisor"
    assert chat_model(fake) is fake


def test_an_unknown_provider_is_a_configuration_error_that_names_the_setting():
    with pytest.raises(LLMConfigError, match="SRE_BOT_MODEL"):
        chat_model("nosuchprovider:some-model")


def test_every_agent_has_its_prompt_file_with_the_untrusted_data_rule():
    for agent in ("supervisor", "kubernetes", "metrics", "logs", "runbooks", "diagnose"):
        text = load_prompt(agent)
        assert text.startswith("# ")
        assert "untrusted-data" in text
