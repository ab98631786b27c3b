# sre-bot: `make demo` runs a whole incident on the embedded sandbox; `make test` runs lint and tests.
# Both set up what they need on a fresh Debian machine: apt packages, .venv, the package.

PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
APT_PKGS := redis-server prometheus
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo demo-rollback test lint format system venv bench clean

demo: venv
	$(BIN)/sre-bot demo

demo-rollback: venv
	$(BIN)/sre-bot demo --rollback

test: system venv lint
	$(BIN)/pytest -q -n 2 --dist loadgroup

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The quick benchmarks (a few minutes); slack_ack.py and scaleout.py take longer: run them by hand.
BENCHES := sandbox_load kubectl_get investigation investigation_large llm_context killswitch_delay

bench: system venv
	@status=0; for b in $(BENCHES); do echo "== benchmarks/$$b.py"; \
	  $(BIN)/python benchmarks/$$b.py || status=1; done; exit $$status

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# Debian packages the tests use as real components. Installed only when missing.
system:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v prometheus >/dev/null || missing="$$missing prometheus"; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v kubectl >/dev/null || missing="$$missing kubectl"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$(echo $$missing | tr ' ' '\n' | sort -u) >/dev/null; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
