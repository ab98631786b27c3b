"""The rules supervisor's correlation rules, one module per concern (workloads, services,
capacity); `agents.correlate` ranks the candidates they produce into a diagnosis."""
