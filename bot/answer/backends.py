"""Generative backends by name. `extractive` (the default) needs no model and returns None here.

Each backend streams the text of a reply to a question from numbered sources; whatever it writes
is then checked sentence by sentence by bot.answer.verify before a patient sees it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Protocol

from bot import prompts
from bot.answer.sources import AnswerRef
from bot.settings import Settings
from vectorstore.errors import SettingsError

MAX_TOKENS = 300  # a reply is at most 5 short sentences; a rambling model is cut off here


class Generator(Protocol):
    """A generative backend: one method, streaming text."""

    name: str

    def stream(self, question: str, sources: Mapping[int, AnswerRef]) -> Iterator[str]:
        """Yield the reply's text in pieces, citing sources as [n]."""
        ...


def source_block(sources: Mapping[int, AnswerRef], max_chars: int = 1200) -> str:
    """The numbered sources as the model sees them: data, fenced, never instructions."""
    parts = []
    for marker, ref in sources.items():
        text = ref.text if len(ref.text) <= max_chars else ref.text[:max_chars] + " ..."
        parts.append(f"[{marker}] (question it answered: {ref.meta.get('page_title', '')})\n{text}")
    return "\n\n".join(parts)


def messages_for(question: str, sources: Mapping[int, AnswerRef]) -> list[tuple[str, str]]:
    """System and user messages from the prompt files."""
    user = prompts.load("answer_user").format(sources=source_block(sources), question=question)
    return [("system", prompts.load("answer_system")), ("human", user)]


class OpenAICompatible:
    """Any OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp's server, hosted APIs)."""

    name = "openai"

    def __init__(self, settings: Settings, *, timeout: float = 60.0) -> None:
        if not settings.llm_base_url:
            raise SettingsError(
                "the openai backend needs BOT_LLM_BASE_URL (e.g. http://127.0.0.1:8080/v1)"
            )
        from langchain_openai import ChatOpenAI

        self.model = ChatOpenAI(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key or "not-needed",
            temperature=0.0,
            # Sent as plain `max_tokens`: ChatOpenAI renames its own max_tokens to OpenAI's newer
            # `max_completion_tokens`, which llama.cpp's server (and other compatible servers)
            # ignore, so a rambling model would write until its context is full.
            extra_body={"max_tokens": MAX_TOKENS},
            timeout=timeout,
            max_retries=1,
            streaming=True,
        )

    def stream(self, question: str, sources: Mapping[int, AnswerRef]) -> Iterator[str]:
        """Stream the model's reply."""
        for chunk in self.model.stream(messages_for(question, sources)):
            if isinstance(chunk.content, str) and chunk.content:
                yield chunk.content


class LlamaCppInProcess:
    """A GGUF model run in this process by llama-cpp-python (BOT_LLM_MODEL is the file path)."""

    name = "llamacpp"

    def __init__(self, settings: Settings) -> None:
        from pathlib import Path

        path = Path(settings.llm_model)
        if not path.is_file():
            raise SettingsError(
                f"the llamacpp backend needs BOT_LLM_MODEL=<path to a .gguf>; {path} is not a file"
            )
        # llama.cpp's OpenMP threads busy-wait between steps; on a CPU shared with the embedder
        # and other processes that made a reply ~6x slower (168 s vs 27 s on 2 busy cores). It
        # only takes effect if set before llama_cpp loads the OpenMP runtime.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from llama_cpp import Llama
        except ImportError:
            raise SettingsError(
                "the llamacpp backend needs llama-cpp-python: `make llm` installs it"
            ) from None
        self.llm = Llama(model_path=str(path), n_ctx=4096, n_threads=2, verbose=False)

    def stream(self, question: str, sources: Mapping[int, AnswerRef]) -> Iterator[str]:
        """Stream the model's reply."""
        roles = {"system": "system", "human": "user"}
        messages = [{"role": roles[r], "content": c} for r, c in messages_for(question, sources)]
        for part in self.llm.create_chat_completion(
            messages, temperature=0.0, max_tokens=MAX_TOKENS, stream=True
        ):
            delta = part["choices"][0].get("delta", {}).get("content")
            if delta:
                yield delta


BACKENDS = {"extractive": None, "openai": OpenAICompatible, "llamacpp": LlamaCppInProcess}


def get_backend(settings: Settings) -> Generator | None:
    """The backend the settings name; an unknown name lists the known ones."""
    name = settings.backend
    if name not in BACKENDS:
        raise SettingsError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}")
    factory = BACKENDS[name]
    return None if factory is None else factory(settings)
