"""Suggested follow-ups: page questions patients asked, close to the question, never generated."""

from __future__ import annotations

from tests.conftest import SEEDS

TITLES = sorted(
    " ".join(p.read_text(encoding="utf-8").splitlines()[0].split()) for p in SEEDS.glob("*.txt")
)


def test_a_botox_question_is_offered_the_seed_pages_questions(seed_bot):
    reply = seed_bot.answer("How long does Botox last?")
    assert sorted(reply.follow_ups) == TITLES
    assert reply.to_dict()["follow_ups"] == list(reply.follow_ups)


def test_the_question_itself_and_earlier_ones_are_not_offered_again(seed_bot):
    first, second = TITLES
    assert seed_bot.answer(first).follow_ups == (second,)
    history = [{"role": "user", "content": second}, {"role": "assistant", "content": "..."}]
    assert seed_bot.answer("How long does Botox last?", history).follow_ups == (first,)


def test_no_follow_ups_off_topic_under_safety_replies_or_refusals(seed_bot):
    assert seed_bot.answer("What is the capital of France?").follow_ups == ()
    emergency = seed_bot.answer("My throat is closing and I cannot breathe after Botox")
    assert emergency.triage == "emergency" and emergency.follow_ups == ()
    assert seed_bot.answer("").follow_ups == ()


def test_page_questions_are_stored_at_ingest_and_not_embedded_per_reply(seed_index, embedder):
    """The page questions' vectors come from the sentence vector file; only the patient's
    question is embedded (and a page question the file lacks, for an index built without)."""
    import numpy as np

    from bot.follow_ups import FollowUps

    stored = seed_index.sentence_vectors(TITLES)
    assert set(stored) == set(TITLES)
    for title in TITLES:
        direct = np.asarray(embedder.embed([title])[0], dtype=np.float32)
        assert float(stored[title] @ direct) / float(np.linalg.norm(stored[title])) > 0.999
    embedded: list[str] = []

    def embed(texts):
        embedded.extend(texts)
        return embedder.embed(texts)

    question = "How long does Botox last?"
    found = FollowUps(seed_index, embed).suggest(question)
    assert sorted(found) == TITLES
    assert set(embedded) == {question}, embedded  # (twice: the search, then the ranking)
