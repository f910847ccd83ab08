"""Turn answers into chunks: the doctor's own words, split at sentence boundaries when long.

Each chunk's sentences (`split_sentences` of its text) are embedded on their own and their vectors
kept by text in the sentence vector file: retrieval can then find the one sentence that answers a
question inside a long answer, and the composer and the citation check read sentence vectors
instead of embedding them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from vectorstore.records import Answer, Page
from vectorstore.sentences import sentence_spans, split_sentences, word_count

MAX_WORDS = 180  # all-MiniLM-L6-v2 reads 256 word pieces; leave room for the question context


CHUNK, SENTENCE = "chunk", "sentence"  # the `record` metadata of the two kinds of records


@dataclass(frozen=True)
class Chunk:
    """A piece of one answer: `text` is quoted verbatim, `embed_text` adds retrieval context."""

    id: str
    text: str
    embed_text: str
    metadata: dict

    def sentences(self) -> list[Sentence]:
        """The chunk's sentences as records: id `<chunk id>/<position>`, text verbatim."""
        return [
            Sentence(
                f"{self.id}/{n}",
                text,
                {
                    "record": SENTENCE,
                    "chunk_id": self.id,
                    "position": n,
                    "page_id": self.metadata["page_id"],
                    "answer_id": self.metadata["answer_id"],
                },
            )
            for n, text in enumerate(split_sentences(self.text))
        ]


@dataclass(frozen=True)
class Sentence:
    """One sentence of a chunk, embedded on its own (without the question context)."""

    id: str
    text: str
    metadata: dict


def _pieces(text: str, max_words: int) -> list[str]:
    if word_count(text) <= max_words:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for sentence in split_sentences(text):
        n = word_count(sentence)
        if current and size + n > max_words:
            pieces.append(" ".join(current))
            current, size = [], 0
        current.append(sentence)
        size += n
    if current:
        pieces.append(" ".join(current))
    return pieces


def _metadata(page: Page, answer: Answer) -> dict:
    meta = {
        "page_id": page.id,
        "answer_id": answer.answer_id,
        "answer_index": answer.index,
        "page_title": page.title,
        "page_body": page.body or None,  # the patient's own words: what the doctors answered
        "source": page.source,
        "heading": answer.heading,
        "doctor": answer.doctor,
        "credentials": answer.credentials,
        "location": answer.location,
        "specialty": answer.specialty,
        "rating": answer.rating,
        "review_count": answer.review_count,
        "organisation": answer.organisation,
        "url": answer.url or page.url,
        "page_url": page.url,
        "date": answer.date,
        "upvotes": answer.upvotes,
        "author_url": answer.author_url,
    }
    return {k: v for k, v in meta.items() if v is not None}  # Chroma stores no None values


def chunk_page(
    page: Page, *, question_context: bool = True, max_words: int = MAX_WORDS
) -> list[Chunk]:
    """Chunks of every answer of a page, with ids from page id, answer index and content hash."""
    chunks: list[Chunk] = []
    for answer in page.answers:
        base = _metadata(page, answer)
        pieces = _pieces(answer.text, max_words)
        for i, piece in enumerate(pieces):
            context = (
                "\n".join(p for p in (page.title, answer.heading) if p) if question_context else ""
            )
            embed_text = f"{context}\n{piece}" if context else piece
            meta = {**base, "chunk_index": i, "chunk_count": len(pieces)}
            digest = hashlib.sha256(
                repr((embed_text, sorted(meta.items()))).encode("utf-8")
            ).hexdigest()[:16]
            chunk_id = f"{answer.answer_id}:{i}:{digest}"
            meta = {**meta, "content_hash": digest, "record": CHUNK}
            spans = sentence_spans(piece)
            if spans:  # the reader slices the chunk's sentences instead of splitting it
                meta["sentence_spans"] = spans
            chunks.append(Chunk(chunk_id, piece, embed_text, meta))
    return chunks
