# syntax=docker/dockerfile:1
# sre-bot: one image for `sre-bot serve --http` (default) and `sre-bot serve --socket`.
#
#   docker build -t sre-bot:0.1.0 .
#   docker run --rm -p 3000:3000 -e SLACK_BOT_TOKEN=... -e SLACK_SIGNING_SECRET=... \
#     -e SRE_BOT_STORE=redis://redis:6379/0 sre-bot:0.1.0
#
# The root filesystem may be read-only: state lives in Redis (SRE_BOT_STORE=redis://...)
# or in the SQLite file on the /var/lib/sre-bot volume; /tmp should be a tmpfs/emptyDir.

ARG PYTHON_IMAGE=python:3.11-slim

# ---- builder: wheels and a virtualenv; build tools stay in this stage ----
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
# A compiler only for dependencies that ship no wheel for this platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so a code change does not rebuild every wheel.
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY agents/ agents/
COPY approvals/ approvals/
COPY prompts/ prompts/
COPY sandbox/ sandbox/
RUN pip wheel --wheel-dir /wheels . \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-index --find-links /wheels sre-bot \
 && /opt/venv/bin/python -m compileall -q /opt/venv/lib

# ---- runtime: the virtualenv and nothing else ----
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="sre-bot" \
      org.opencontainers.image.description="ChatOps incident bot for Slack" \
      org.opencontainers.image.licenses="Apache-2.0"
# A fixed, numeric uid/gid so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
RUN groupadd --gid 10001 sre-bot \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin sre-bot \
 && mkdir -p /var/lib/sre-bot \
 && chown 10001:10001 /var/lib/sre-bot
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SRE_BOT_STORE=sqlite:////var/lib/sre-bot/sre-bot.db
VOLUME ["/var/lib/sre-bot"]
USER 10001:10001
EXPOSE 3000
# urllib, not curl: the slim image has no curl and needs none.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["sre-bot"]
CMD ["serve", "--http", "--port", "3000"]
