"""How the investigation reaches a cluster: one Kubernetes ApiClient and a Prometheus URL.

Built once at the entry point from a kubeconfig (or in-cluster config) and passed in; the
process-wide default configuration of the kubernetes package is never touched, so two
investigations against two clusters can run side by side.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes
import urllib3
from kubernetes.client import ApiClient, Configuration
from kubernetes.client.rest import ApiException

# (connect, read) seconds for every API call: an investigation must never hang on a dead cluster.
REQUEST_TIMEOUT: tuple[float, float] = (3.0, 15.0)


class ClusterUnreachable(Exception):
    """The Kubernetes API (or Prometheus) did not answer; the message names the URL and the cause."""


class ClusterConfigError(Exception):
    """No usable kubeconfig or in-cluster configuration was found."""


@dataclass
class Cluster:
    """A connection to one cluster: its Kubernetes API client and (optionally) Prometheus."""

    api: ApiClient
    prometheus_url: str | None = None
    request_timeout: tuple[float, float] = field(default=REQUEST_TIMEOUT)

    @classmethod
    def connect(
        cls,
        kubeconfig: str | Path | None = None,
        prometheus_url: str | None = None,
        context: str | None = None,
    ) -> Cluster:
        """Connect from `kubeconfig` (else $KUBECONFIG / ~/.kube/config, else in-cluster config).

        Raises ClusterConfigError when no configuration is usable. Connecting does not call the
        API; the first call raises ClusterUnreachable if the server does not answer.
        """
        # A fresh Configuration (not Configuration() which copies the global default).
        conf = type.__call__(Configuration)
        conf.retries = 0  # fail fast: the caller reports, the person retries
        path = str(kubeconfig) if kubeconfig else None
        try:
            if path is None and _in_cluster():
                kubernetes.config.load_incluster_config(client_configuration=conf)
                api = ApiClient(configuration=conf)
            else:
                api = kubernetes.config.new_client_from_config(
                    config_file=path,
                    context=context,
                    persist_config=False,
                    client_configuration=conf,
                )
        except (kubernetes.config.ConfigException, OSError) as exc:
            where = path or os.environ.get("KUBECONFIG") or "~/.kube/config"
            raise ClusterConfigError(
                f"cannot load Kubernetes configuration from {where}: {exc}. "
                "Pass --kubeconfig, set KUBECONFIG, or run inside a Pod with a service account."
            ) from exc
        return cls(api=api, prometheus_url=prometheus_url.rstrip("/") if prometheus_url else None)

    @property
    def server(self) -> str:
        """The API server URL, for messages."""
        return str(self.api.configuration.host)

    def core(self) -> kubernetes.client.CoreV1Api:
        """CoreV1Api on this cluster's client."""
        return kubernetes.client.CoreV1Api(self.api)

    def apps(self) -> kubernetes.client.AppsV1Api:
        """AppsV1Api on this cluster's client."""
        return kubernetes.client.AppsV1Api(self.api)

    def networking(self) -> kubernetes.client.NetworkingV1Api:
        """NetworkingV1Api on this cluster's client."""
        return kubernetes.client.NetworkingV1Api(self.api)

    def call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        """Call a typed API method with our timeout, mapping connection failures to ClusterUnreachable.

        ApiException (404, 403, ...) propagates: the caller decides what "not found" means.
        """
        kwargs.setdefault("_request_timeout", self.request_timeout)
        try:
            return method(*args, **kwargs)
        except ApiException:
            raise
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ClusterUnreachable(
                f"Kubernetes API at {self.server} did not answer ({type(exc).__name__}: "
                f"{_short(exc)}). Check that the cluster is up and the kubeconfig points at it."
            ) from exc

    def call_json(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        """Like `call`, but the API's own JSON as plain dicts (camelCase, RFC 3339 strings).

        Investigation reads skip the client's model validation on purpose: a field the models
        do not expect (or one a server leaves out) must not hide a whole listing from us.
        """
        response = self.call(method, *args, _preload_content=False, **kwargs)
        raw = response.data if hasattr(response, "data") else response.read()
        return json.loads(raw) if raw else None

    def to_dict(self, obj: Any) -> Any:
        """An API model as the plain dict the API returns (camelCase keys, RFC 3339 times)."""
        return self.api.sanitize_for_serialization(obj)


def _in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and not os.environ.get("KUBECONFIG")


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "..."
