"""The chain's vector cache: keyed by what a vector depends on, bounded, shared with triage."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from bot.embed_cache import CachedEmbedder
from bot.safety import SafetyChecks
from bot.safety.text import normalise


def test_texts_with_the_same_tokens_have_the_same_vector(embedder):
    # Why keying by token ids is exact: the model sees ids only, one text at a time.
    typed, normalised = "Can I drink alcohol after Botox?", "can i drink alcohol after botox ?"
    assert embedder.token_key(typed) == embedder.token_key(normalised)
    a, b = (np.asarray(embedder.embed([t])[0]) for t in (typed, normalised))
    assert np.array_equal(a, b)
    assert embedder.token_key("Can I drink wine after Botox?") != embedder.token_key(typed)


def test_the_same_tokens_are_embedded_once(embedder):
    cache = CachedEmbedder(embedder)
    before = embedder.encoded
    first = cache.one("Is a sauna okay after Botox?")
    again = cache.many(["is a sauna okay after botox ?", "IS A SAUNA OKAY AFTER BOTOX ?"])
    assert embedder.encoded - before == 1
    assert again == [first, first]


def test_triage_and_retrieval_share_the_question_vector(embedder):
    cache = CachedEmbedder(embedder)
    safety = SafetyChecks(embedder, embed_messages=cache.many)
    question = "What are the side effects of lip filler?"
    assert safety.triage(question) is None  # an ordinary question: triage embedded it
    before = embedder.encoded
    vector = cache.one(question)  # what the retriever asks for next
    assert embedder.encoded == before
    assert np.array_equal(np.asarray(vector), np.asarray(embedder.embed([normalise(question)])[0]))


def test_the_cache_stays_within_its_size(embedder):
    cache = CachedEmbedder(embedder, size=2)
    texts = ["botox lasts three months", "lip filler swelling", "chemical peel redness"]
    vectors = cache.many(texts)
    assert len(cache._cache) == 2
    # The evicted text is embedded again and still gets its own vector.
    assert cache.one(texts[0]) == vectors[0]
    assert len(cache._cache) == 2


class _Plain:
    """An embedder without token keys (a test double or another backend): texts are the keys."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts):
        self.seen.extend(texts)
        return [[float(len(t)), 1.0] for t in texts]


def test_an_embedder_without_token_keys_is_cached_by_text():
    plain = _Plain()
    cache = CachedEmbedder(plain)
    cache.many(["a b", "A B", "a b"])
    assert plain.seen == ["a b", "A B"]


class _Slow(_Plain):
    """Its first call blocks until released; a second call (the same text embedded twice)
    releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def embed(self, texts):
        first = not self.seen
        out = super().embed(texts)
        if first:
            self.entered.set()
            self.release.wait(10)
        else:
            self.release.set()
        return out


def test_a_text_another_thread_is_embedding_is_waited_for_not_embedded_again():
    # Triage embeds the normalised question while retrieval asks for the question's vector.
    slow = _Slow()
    cache = CachedEmbedder(slow)
    text = "sauna after botox"
    first = threading.Thread(target=cache.many, args=([text],))
    first.start()
    assert slow.entered.wait(10)
    got: list = []
    second = threading.Thread(target=lambda: got.append(cache.one(text)))
    second.start()
    second.join(0.3)  # by now waiting for the first thread (without the wait: embedding again)
    slow.release.set()
    first.join(10)
    second.join(10)
    assert slow.seen == [text] and got == [[float(len(text)), 1.0]]


class _Failing(_Plain):
    def embed(self, texts):
        if not self.seen:
            self.seen.extend(texts)
            raise RuntimeError("model crashed")
        return super().embed(texts)


def test_a_failed_embedding_leaves_the_text_to_the_next_caller():
    failing = _Failing()
    cache = CachedEmbedder(failing)
    with pytest.raises(RuntimeError):
        cache.one("lip filler")
    assert not cache._pending
    assert cache.one("lip filler") == [10.0, 1.0]
