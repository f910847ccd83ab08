"""Threads a question's own work overlaps on: Chroma, SQLite and ONNX Runtime release the GIL,
so on two cores the dense search runs beside BM25 and the record fetches (retrieve.py), and the
question's vector is embedded beside triage's (bot/chain.py). Shared by the whole process and
bounded: under many users a request waits for a thread rather than starting one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

THREADS = 4
POOL = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="answer-background")
