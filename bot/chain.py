"""The one entry point every channel calls: `answer(question, history)` and its streaming twin.

A LangChain LCEL chain of steps, each a function of a state dict:
validate -> triage -> rewrite -> retrieve -> gate -> compose -> verify -> finish.
Once a step decides the reply (a rejection, a safety reply, an abstention), later steps pass the
state through untouched. The disclaimer is attached in `_reply`, which every path goes through.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import wait
from dataclasses import replace

from langchain_core.documents import Document
from langchain_core.runnables import Runnable, RunnableLambda

from bot import prompts
from bot.answer import background
from bot.answer.backends import Generator, get_backend
from bot.answer.compose import ExtractiveComposer, reframe
from bot.answer.coverage import check_coverage, check_focus, off_topic
from bot.answer.gate import relevant
from bot.answer.retrieve import HybridRetriever
from bot.answer.rewrite import standalone
from bot.answer.sources import AnswerRef, numbered_answers, render, renumber
from bot.answer.verify import Verifier
from bot.embed_cache import CachedEmbedder
from bot.follow_ups import FollowUps
from bot.reply import FinalEvent, Reply, StatementEvent, Verification
from bot.safety import SafetyChecks
from bot.settings import Settings
from vectorstore.errors import BotError, StoreUnavailableError
from vectorstore.index import Index

log = logging.getLogger(__name__)
State = dict
FOLLOW_UP_KINDS = ("answer", "partial", "abstain")  # not under refusals, errors or safety replies


def _reply(state: State, **fields) -> Reply:
    """Build the final Reply; the disclaimer is attached here, after everything else."""
    fields.setdefault("notice", state.get("notice"))
    urgent = state.get("urgent")
    if urgent and fields.get("kind") not in ("emergency", "crisis"):
        # An urgent message: the "get seen today" block first, then whatever the chain decided.
        fields["text"] = f"{urgent}\n\n{fields.get('text', '')}".strip()
        fields["triage"] = "urgent"
    return Reply(
        disclaimer=prompts.disclaimer(),
        question=state.get("question", ""),
        standalone_question=state.get("standalone", ""),
        latency_ms=state.get("latency", {}),
        **fields,
    )


def _asked(state: State) -> str:
    """What the composer answers: the standalone question, or only its covered parts."""
    return state.get("asked") or state["standalone"]


def _timed(name: str, fn: Callable[[State], State]) -> Runnable:
    """A chain step that is skipped once a reply is decided and that records its latency."""

    def step(state: State) -> State:
        if state.get("reply") is not None:
            return state
        started = time.perf_counter()
        state = fn(state)
        state.setdefault("latency", {})[name] = round((time.perf_counter() - started) * 1000, 2)
        return state

    return RunnableLambda(step, name=name)


class Bot:
    """Answers questions from the indexed doctors' answers only."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        index: Index | None = None,
        generator: Generator | None = None,
        safety: SafetyChecks | None = None,
        strict: bool = False,
    ) -> None:
        from bot.resources import open_index

        self.settings = settings or Settings.load()
        self.index = index or open_index(self.settings)
        self.embedder = self.index.embedder
        self.vectors = CachedEmbedder(self.embedder)
        self.embed_query = self.vectors.one
        self.retriever = HybridRetriever(index=self.index, embed_query=self.embed_query)
        self.vectors.known = self.retriever.sentence_vector  # index sentences are not re-embedded
        self.composer = ExtractiveComposer(self.vectors.many)
        self.verifier = Verifier(self.vectors.many)
        self.generator = generator if generator is not None else get_backend(self.settings)
        self.safety = safety or SafetyChecks(
            self.embedder, self.settings, embed_messages=self.vectors.many
        )
        self.follow_ups = FollowUps(self.index, self.vectors.many)
        self.strict = strict  # tests: unexpected errors are raised, not turned into a reply
        # Up to the gate, then compose and verify; Bot.stream runs the same prefix.
        self.prefix = (
            _timed("validate", self._validate)
            | _timed("triage", self._triage)
            | _timed("rewrite", self._rewrite)
            | _timed("retrieve", self._retrieve)
            | _timed("gate", self._gate)
        )
        self.chain = self.prefix | _timed("compose", self._compose) | _timed("verify", self._verify)

    @property
    def backend_name(self) -> str:
        """Which composer writes replies."""
        return self.generator.name if self.generator else "extractive"

    # ----- steps --------------------------------------------------------------------------
    def _validate(self, state: State) -> State:
        checked = self.safety.validate(state["question"])
        state["question"] = checked.text
        if checked.problem:
            state["reply"] = _reply(state, kind="rejected", text=checked.message)
        elif checked.notice:
            state["notice"] = checked.notice
        return state

    def _triage(self, state: State) -> State:
        if not state.get("history"):  # the question is what retrieval embeds: start on it now
            state["early_vector"] = background.POOL.submit(self.embed_query, state["question"])
        verdict = self.safety.triage(state["question"])
        if verdict is not None and verdict.triage == "urgent":
            # Recorded; the chain goes on and _reply puts the block first.
            state["urgent"] = (
                verdict.message if verdict.kind == "urgent" else prompts.load("urgent")
            )
        if verdict is not None and verdict.kind != "urgent":
            state["reply"] = _reply(
                state, kind=verdict.kind, triage=verdict.triage, text=verdict.message
            )
        return state

    def _rewrite(self, state: State) -> State:
        state["standalone"] = standalone(state["question"], state.get("history", ()))
        return state

    def _retrieve(self, state: State) -> State:
        early = state.pop("early_vector", None)
        if early is not None:
            wait([early])  # its vector is in the cache now (a failure: retrieval embeds again)
        state["docs"] = self.retriever.invoke(state["standalone"])
        state["retrieved"] = state["docs"]  # before the gate: the follow-ups' candidate pages
        return state

    def _gate(self, state: State) -> State:
        state["docs"] = relevant(state["standalone"], state["docs"], self.embed_query)
        if not state["docs"]:
            state["reply"] = _reply(state, kind="abstain", text=prompts.load("abstain"))
            return state
        # On topic, but does any answer address what this question (not the history) asks?
        frequency = self.retriever.corpus_frequency()
        coverage = check_coverage(
            state["question"],
            state["docs"],
            frequency,
            self.vectors.many,
            self.embed_query,
            getattr(self.embedder, "knows", None),
        )
        focus = coverage.focus
        if coverage.missing:
            note = prompts.load("not_covered").format(focus=coverage.missing)
            if not coverage.covered:
                state["reply"] = _reply(state, kind="partial", text=note)
                return state
            # Some parts are covered: say what is missing, then answer those parts only.
            state["not_covered"] = note
            state["asked"] = coverage.covered
            focus = check_focus(
                coverage.covered, state["docs"], frequency, self.vectors.many, self.embed_query
            )[0]
        state["focus"] = focus.weights
        state["off_topic"] = off_topic(state["docs"], focus)
        span = focus.span()
        # The focus words alone, when they are not the whole question: one more query vector.
        if span and span != state.get("asked", state["question"]).strip():
            state["focus_vector"] = self.embed_query(span)
        return state

    def _compose(self, state: State) -> State:
        docs: list[Document] = state["docs"]
        if self.generator is not None:
            try:
                state["draft"], state["answers"] = self._generate(_asked(state), docs)
                state["backend"] = self.generator.name
                return state
            except Exception as err:  # a model endpoint that is down or slow is expected
                # The doctors' answers are still here: quote them rather than fail the patient.
                log.warning(
                    "generative backend %s failed (%s); quoting doctors instead",
                    self.generator.name,
                    err,
                )
                state["generator_failed"] = True
        return self._extract(state)

    def _extract(self, state: State) -> State:
        """The extractive draft: the doctors' own sentences, quoted."""
        docs: list[Document] = state["docs"]
        composition = self.composer.compose(
            _asked(state),
            docs,
            self.embed_query(_asked(state)),
            state.get("focus"),
            state.get("focus_vector"),
            off_topic=state.get("off_topic", frozenset()),
        )
        state["draft"], state["answers"] = render(composition, docs)
        state["composition"] = composition
        state["backend"] = (
            f"{self.generator.name}+fallback" if state.get("generator_failed") else "extractive"
        )
        return state

    def _generate(self, question: str, docs: list[Document]) -> tuple[str, dict]:
        answers = numbered_answers(docs)
        text = "".join(self.generator.stream(question, answers))
        return text, answers

    def _verify(self, state: State) -> State:
        answers: dict[int, AnswerRef] = state["answers"]
        checked = self.verifier.check(state["draft"], {m: a.text for m, a in answers.items()})
        fell_back = bool(state.get("generator_failed"))
        if state.get("composition") is None and checked.kept < max(1, len(checked.dropped)):
            # Too little of the model's reply is supported: quote the doctors instead.
            composition = self.composer.compose(
                _asked(state),
                state["docs"],
                self.embed_query(_asked(state)),
                state.get("focus"),
                state.get("focus_vector"),
                off_topic=state.get("off_topic", frozenset()),
            )
            draft, answers = render(composition, state["docs"])
            state["composition"] = composition
            kept_drops = checked.dropped
            checked = self.verifier.check(draft, {m: a.text for m, a in answers.items()})
            checked = replace(checked, dropped=kept_drops + checked.dropped)
            fell_back = True
        note = state.get("not_covered")
        if not checked.text and note:  # nothing checked out for the covered parts either
            state["reply"] = _reply(state, kind="partial", text=note, backend=state["backend"])
            return state
        if not checked.text:
            state["reply"] = _reply(
                state,
                kind="abstain",
                text=prompts.load("abstain"),
                backend=state["backend"],
                verification=Verification(0, len(checked.dropped), checked.dropped, fell_back),
            )
            return state
        text = checked.text
        if state.get("composition") is not None:
            composition = state["composition"]
            text = reframe(text, composition.considered, composition.organisations)
        text, citations = renumber(text, answers, checked.support, checked.quotes)
        if note:  # what is not covered first, then clearly apart what the answers do say
            text = f"{note}\n\n{prompts.load('covered_part')}\n\n{text}"
        state["reply"] = _reply(
            state,
            kind="partial" if note else "answer",
            text=text,
            citations=citations,
            backend=state["backend"]
            + ("+fallback" if fell_back and "+fallback" not in state["backend"] else ""),
            verification=Verification(
                checked.kept, len(checked.dropped), checked.dropped, fell_back
            ),
        )
        return state

    # ----- entry points -------------------------------------------------------------------
    def answer(self, question: str, history: Sequence = ()) -> Reply:
        """Answer one question (with optional chat history); never raises for bad input."""
        state: State = {
            "question": question if isinstance(question, str) else "",
            "history": history or (),
        }
        started = time.perf_counter()
        try:
            state = self.chain.invoke(state)
            reply = state["reply"]
        except Exception as err:
            reply = self.failed(state, err)
        reply = self._with_follow_ups(reply, state)
        reply.latency_ms["total"] = round((time.perf_counter() - started) * 1000, 2)
        return reply

    def failed(self, state: State, err: Exception) -> Reply:
        """The reply when answering raised: "unavailable" for the store, else "error"."""
        if isinstance(err, StoreUnavailableError):
            log.warning("store unavailable: %s", err)
            return _reply(state, kind="unavailable", text=prompts.load("unavailable"))
        if isinstance(err, BotError):
            log.error("cannot answer: %s", err)
        else:
            log.error("unexpected error while answering", exc_info=err)
        if self.strict:
            raise err
        return _reply(state, kind="error", text=prompts.load("error"))

    def _with_follow_ups(self, reply: Reply, state: State) -> Reply:
        """Add up to three close page questions, except under a safety reply or a refusal."""
        if reply.kind not in FOLLOW_UP_KINDS or reply.triage is not None:
            return reply
        try:
            found = self.follow_ups.suggest(
                reply.question, state.get("history", ()), near=state.get("retrieved")
            )
        except BotError as err:  # the reply stands without them
            log.warning("no follow-ups: %s", err)
            return reply
        return replace(reply, follow_ups=found)

    def safety_first(self, question: str) -> Reply | None:
        """The emergency or crisis reply a message needs, by the catalogue alone (no store, no
        model), or None: channels call it before their rate, queue and length limits."""
        if not isinstance(question, str) or not question.strip():
            return None
        verdict = self.safety.urgent_first(question)
        if verdict is None:
            return None
        state: State = {"question": question}
        return _reply(state, kind=verdict.kind, triage=verdict.triage, text=verdict.message)

    def stream(
        self, question: str, history: Sequence = ()
    ) -> Iterator[StatementEvent | FinalEvent]:
        """Typed events: each statement once it has passed verification, then the final Reply."""
        from bot.stream import stream_reply

        yield from stream_reply(self, question, history)
