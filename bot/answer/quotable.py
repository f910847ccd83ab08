"""Which sentences of a doctor's answer may be quoted as a statement: not boilerplate, not text
addressed to an AI, not a heading or a list intro, and whether it is about the asker's own case."""

from __future__ import annotations

import functools
import re

from bot.prompts import wordlist
from bot.words import stop_words
from vectorstore.sentences import MAX_SENTENCE_WORDS, MIN_SENTENCE_WORDS, word_count

# Sentences that carry no medical content: greetings, thanks, sympathy, sign-offs, legal notes.
_BOILERPLATE = re.compile(
    r"^(?:thank(?:s| you)\b|i hope (?:this|that) helps|hope (?:this|you find)|good luck|"
    r"best (?:wishes|regards)|hello\b|hi\b|dear\b|(?:i am |i'm )?(?:so )?sorry (?:to hear|this)|"
    r"i am sorry|this answer has been solicited|is this a statement or|kind regards|"
    r"all the best|take care|cheers\b)",
    re.IGNORECASE,
)
# Text inside a source that addresses an AI rather than a patient is data, never an instruction,
# and is never quoted back ("ignore previous instructions", "system prompt", "you are now ...").
INSTRUCTION_LIKE = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|rules?|prompts?|"
    r"guidelines|above|previous)\b|\bsystem prompt\b|\b(?:you are|act as|pretend to be)\b.{0,30}"
    r"\b(?:ai|assistant|chatbot|model|bot|dan)\b|\b(?:assistant|chatbot|ai|language model)s?\b.{0,30}"
    r"\b(?:must|should|will|shall)\b|\bdisclaimer\b|<\s*/?\s*(?:system|script|img|iframe)\b|"
    r"^\s*(?:system|assistant|user)\s*:",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=1)
def _case_cues() -> re.Pattern:
    phrases = sorted(wordlist("case_cues"), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b", re.IGNORECASE)


@functools.lru_cache(maxsize=65536)  # a pure test of the text; the same sentences recur
def quotable(sentence: str, max_words: int = MAX_SENTENCE_WORDS) -> bool:
    """Whether a sentence may be quoted: medical content of a quotable length, not boilerplate,
    not text addressed to an AI."""
    return (
        MIN_SENTENCE_WORDS <= word_count(sentence) <= max_words
        and not _BOILERPLATE.match(sentence)
        and not INSTRUCTION_LIKE.search(sentence)
    )


@functools.lru_cache(maxsize=1)
def _back_references() -> frozenset[str]:
    return frozenset(wordlist("back_references"))


_FIRST_WORD = re.compile(r"[\W_]*([A-Za-z]+)")


@functools.lru_cache(maxsize=1)
def _expletive_it() -> re.Pattern:
    """bot/wordlists/expletive_it.txt as one pattern: a "be" frame needs what it introduces."""
    be, other = [], []
    for frame in sorted(wordlist("expletive_it"), key=len, reverse=True):
        words = r"\s+".join(re.escape(w) for w in frame.split())
        (other if frame.split()[-1].startswith(("take", "took")) else be).append(words)
    follows = r"(?:\s+(?!(?:a|an|the)\b)[\w-]+){0,3}?\s+(?:to|that|for|if|when|whether)\b"
    return re.compile(
        rf"[\W_]*(?:(?:{'|'.join(be)}){follows}|(?:{'|'.join(other)})\b)", re.IGNORECASE
    )


def refers_back(sentence: str) -> bool:
    """Whether a sentence opens with a word that points back to the sentence before it ("It
    usually affects one side of the face."; bot/wordlists/back_references.txt): quoted alone,
    the patient cannot tell what it is about. An "it" that points ahead ("It is normal to have
    some swelling."; bot/wordlists/expletive_it.txt) does not."""
    first = _FIRST_WORD.match(sentence)
    if first is None or first.group(1).lower() not in _back_references():
        return False
    return not (first.group(1).lower() == "it" and _expletive_it().match(sentence))


@functools.lru_cache(maxsize=1)
def _announcement() -> re.Pattern:
    cues = sorted(wordlist("list_announcements"), key=len, reverse=True)
    times = "|".join(re.escape(w) for w in wordlist("time_words"))
    return re.compile(
        r"\b(?:" + "|".join(re.escape(c) for c in cues) + rf")\b(?!\s+(?:{times})\b)",
        re.IGNORECASE,
    )


def announces_a_missing_list(sentence: str) -> bool:
    """Whether a sentence announces a list ("the following", "listed below") that it does not
    itself carry after a colon (bot/wordlists/list_announcements.txt)."""
    found = _announcement().search(sentence)
    return found is not None and ":" not in sentence[found.end() :]


@functools.lru_cache(maxsize=1)
def _pointer() -> re.Pattern:
    verbs = "|".join(re.escape(v) for v in wordlist("pointer_verbs"))
    things = "|".join(re.escape(o) for o in wordlist("pointer_objects"))
    return re.compile(rf"^\W*(?:{verbs})\b.{{0,100}}?\b(?:{things})s?\b", re.IGNORECASE | re.DOTALL)


TITLE_RUN_WORDS = 3  # content words, at least, all in Title Case: a name or a heading, no claim
_TOKEN = re.compile(r"[A-Za-z][\w'’-]*")


@functools.lru_cache(maxsize=1)
def _clause_words() -> frozenset[str]:
    return frozenset(wordlist("clause_words"))


@functools.lru_cache(maxsize=65536)
def title_run(sentence: str) -> bool:
    """Whether a "sentence" is only Title Case words and small words: an organisation's name, a
    heading or the text of links run together where a page lost its line breaks ("NIH: National
    Institute of Allergy and Infectious Diseases", "National Library of Medicine Drug Information
    Portal Medline Plus Health Information"). It names things and claims nothing. A sentence in
    capitals throughout ("NEVER GET FILLER FROM AN UNLICENSED INJECTOR.") is still a statement,
    and so is one in Title Case with a verb or pronoun of bot/wordlists/clause_words.txt ("I
    Recommend Seeing A Board Certified Dermatologist.")."""
    words = _TOKEN.findall(sentence)
    stop = stop_words()
    content = [w for w in words if w.lower() not in stop]
    return (
        len(content) >= TITLE_RUN_WORDS
        and not any(w.lower() in _clause_words() for w in words)
        and all(w[0].isupper() for w in content)
        and any(any(ch.islower() for ch in w) for w in content)
    )


def points_elsewhere(sentence: str) -> bool:
    """Whether a sentence sends the reader to other material ("See a glossary of glaucoma
    terms.", "Check the list of NCI-supported cancer clinical trials ..."): it points at
    something the reply does not show (bot/wordlists/pointer_verbs.txt, pointer_objects.txt)."""
    return bool(_pointer().search(sentence))


@functools.lru_cache(maxsize=65536)  # a pure test of the text, asked of every candidate often
def statement_like(sentence: str, max_words: int = MAX_SENTENCE_WORDS) -> bool:
    """Quotable and a whole statement: not a heading, a list intro ("The signs ... are") or a
    question (a heading such as "How might X be treated?", or one the doctor asks back): a question
    states nothing a patient could rely on."""
    if (
        not quotable(sentence, max_words)
        or announces_a_missing_list(sentence)
        or points_elsewhere(sentence)
        or title_run(sentence)
    ):
        return False
    text = sentence.rstrip()
    if text.endswith(":") or text.rstrip("\"'”’)]").endswith("?"):
        return False
    if text[-1] not in ".!?)\"”’'":
        last = re.findall(r"[a-z]+", text.lower())
        return (
            bool(last) and last[-1] not in wordlist("list_intro_endings") and (word_count(text) > 6)
        )
    return True


FLATTENED_ITEMS = 2  # " - " items after a colon that make a line a list intro with its items
_ITEM = re.compile(r"\s-\s")


def flattened_list(sentence: str) -> bool:
    """A list intro and its items that lost their line breaks, read as one sentence ("These
    resources address the diagnosis or management of X: - Gene Review: ... - Genetic Testing
    Registry: ..."): items, not a statement, so not quoted as one (coverage still reads its
    words). A flattened table without an intro ("Signs and Symptoms ... Blepharospasm -
    Clumsiness - ...") is left quotable: for "What are the symptoms of X?" it is the answer."""
    colon = sentence.find(":")
    return colon >= 0 and len(_ITEM.findall(sentence, colon)) >= FLATTENED_ITEMS


HEADING_WORDS = 2  # Title Case words, at least, that make a glued heading...
HEADING_MAX_WORDS = 24  # ...and at most this many words before the sentence starts
_HEAD_WORD = re.compile(r"(?:[A-Z0-9][\w'’()/,-]*|of|for|and|the|in|with|to|a|an|or|on|at|by|&)$")


@functools.lru_cache(maxsize=1)
def _openers() -> frozenset[str]:
    return frozenset(wordlist("sentence_openers", lower=False))  # matched with their case


LABEL_MAX_WORDS = 3  # words of a label glued before a colon ("Summary :", "Key Points:")
_LABEL = re.compile(
    rf"^([A-Z][\w'’()/-]*(?:\s+[\w'’()/-]+){{0,{LABEL_MAX_WORDS - 1}}})\s*:\s+(?=[A-Z\"“])"
)


def _without_label(sentence: str) -> str:
    """The sentence without a label and its colon ("Summary : An arrhythmia is ..." -> "An
    arrhythmia is ..."): at most LABEL_MAX_WORDS words, the first capitalised and none a verb or
    pronoun of bot/wordlists/clause_words.txt ("The answer is simple: ..." is a clause), then a
    colon and a capitalised word. Unchanged when there is none."""
    label = _LABEL.match(sentence)
    if label is None or any(w.lower() in _clause_words() for w in label.group(1).split()):
        return sentence
    rest = sentence[label.end() :]
    return rest if len(rest.split()) >= 3 else sentence


@functools.lru_cache(maxsize=65536)
def without_heading(sentence: str) -> str:
    """The sentence without a heading glued to its start where a page lost its line breaks ("Key
    Points There are different types of treatment for ..." -> "There are different ..."): a run
    of Title Case words, then a word that starts a sentence (bot/wordlists/sentence_openers.txt)
    or repeats one of the heading's ("Treatment for Dry Mouth Dry mouth treatment will depend
    ..."), followed by a lower-case word. What is left is still the source's own words; whether
    it is a statement is the caller's test. A label ending in a colon ("Summary : ") goes too.
    Unchanged when there is no such heading."""
    sentence = _without_label(sentence)
    words = sentence.split()
    for i in range(1, min(HEADING_MAX_WORDS, len(words) - 2) + 1):
        head = words[:i]
        if not _HEAD_WORD.match(head[-1]):
            return sentence
        if i < HEADING_WORDS:
            continue
        if sum(w[0].isupper() or w[0].isdigit() for w in head) < HEADING_WORDS:
            continue
        first, after = words[i], words[i + 1]
        repeats = first[:1].isupper() and first.lower() in {w.lower() for w in head}
        # The sentence goes on in lower case; after a repeated heading word, not with a word
        # that joins a heading's ("Osteosarcoma and Malignant ...").
        goes_on = after[:1].islower()
        if (first in _openers() and goes_on) or (
            repeats and goes_on and not _HEAD_WORD.match(after)
        ):
            return sentence[sentence.index(first, len(" ".join(head))) :]
    return sentence


@functools.lru_cache(maxsize=65536)
def case_specific(sentence: str) -> bool:
    """Whether a sentence is about the original asker's own case (bot/wordlists/case_cues.txt)."""
    return bool(_case_cues().search(sentence))
