"""The sandbox's Kubernetes HTTP API: what stock kubectl and the official Python client talk to.

`handler.KubeApi` answers one request at a time against a World; `sandbox/server.py`
puts it behind a threaded HTTP server.
"""
