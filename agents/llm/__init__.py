"""The LLM engine: the same graph with an LLM supervisor, LLM specialists and an LLM diagnosis.

The model only proposes; what may run is decided by `approvals/`, never by model output.
"""
