"""The answer pipeline by stage: retrieve, gate, focus, compose (quotable, agreement,
answer_shape), verify, sources, rewrite, backends. `bot/chain.py` wires them into `answer()`."""
