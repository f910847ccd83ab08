"""Reply quality on the seed pages plus two test pages: the first statement answers, nothing is
said twice, and questions the doctors did not cover are answered honestly (CI thresholds)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from langchain_core.documents import Document

from bot import prompts
from bot.answer.agreement import exactly_supports
from bot.answer.answer_shape import asked_shapes, has_shape
from bot.answer.compose import ExtractiveComposer
from bot.answer.coverage import off_topic
from bot.answer.focus import Focus, focus_of
from bot.answer.parts import question_parts
from bot.answer.quotable import (
    case_specific,
    flattened_list,
    points_elsewhere,
    statement_like,
    title_run,
    without_heading,
)
from bot.answer.spelling import edit_distance, meant, vocabulary
from bot.eval_cases import load_cases
from bot.eval_metrics import metrics
from bot.eval_quality import has_nugget, quoted_statements, redundant_pairs
from bot.evaluate import evaluate
from tests.conftest import ROOT, SEEDS

PAGES = ROOT / "tests" / "data" / "pages"
QUALITY = ROOT / "tests" / "data" / "quality_cases.jsonl"
BLIND = ROOT / "tests" / "data" / "quality_blind.jsonl"
PARTS = ROOT / "tests" / "data" / "quality_parts.jsonl"
PARTS_BLIND = ROOT / "tests" / "data" / "quality_parts_blind.jsonl"
JOINT = ROOT / "tests" / "data" / "quality_joint.jsonl"
JOINT_BLIND = ROOT / "tests" / "data" / "quality_joint_blind.jsonl"
BOTOX_PAGES = {"000_674dcb4655ddd097", "001_3189914d5f52dce4"}
SHAPE = ROOT / "tests" / "data" / "quality_shape.jsonl"
SHAPE_BLIND = ROOT / "tests" / "data" / "quality_shape_blind.jsonl"
REPEAT = ROOT / "tests" / "data" / "quality_repeat.jsonl"
REPEAT_BLIND = ROOT / "tests" / "data" / "quality_repeat_blind.jsonl"
CAUSE = ROOT / "tests" / "data" / "quality_cause.jsonl"
CAUSE_BLIND = ROOT / "tests" / "data" / "quality_cause_blind.jsonl"
REMEDY = ROOT / "tests" / "data" / "quality_remedy.jsonl"
REMEDY_BLIND = ROOT / "tests" / "data" / "quality_remedy_blind.jsonl"
# What the set must show (issue 11). FIRST_ANSWERS is the floor measured when the first statement
# came to be chosen by focus and answer shape (0.911 on this set, 41 of 45), so a regression fails.
FIRST_ANSWERS, REDUNDANT, HONEST, FALSE_NOT_COVERED = 0.9, 0, 1.0, 0.05


@pytest.fixture(scope="session")
def quality_bot(tmp_path_factory, embedder):
    """A Bot over the seed pages plus tests/data/pages (a lip filler and a chemical peel page)."""
    from bot.chain import Bot
    from bot.settings import Settings
    from vectorstore.index import Index

    data = tmp_path_factory.mktemp("quality-data")
    Index(data, embedder=embedder).sync([SEEDS, PAGES])
    settings = Settings.load(env={}, data_dir=data)
    return Bot(settings, index=Index(data, embedder=embedder), strict=True)


def _run(bot, cases, tmp_path):
    """`bot eval` of these cases through the bot (its results and metrics)."""
    return evaluate(
        cases, bot.answer, tmp_path / "eval", {"format": 1}, progress=False, embed=bot.vectors.many
    )


def test_quality_thresholds(quality_bot, tmp_path):
    """The blind part (quality_blind.jsonl) is reported, not held to these (see BENCHMARKS.md)."""
    run = _run(quality_bot, load_cases(QUALITY), tmp_path)
    m = metrics(run.results)
    assert m["redundant_pairs"] == REDUNDANT, [r["flags"]["redundant_pairs"] for r in run.results]
    assert m["uncovered_honest"] == HONEST
    assert m["false_not_covered"] <= FALSE_NOT_COVERED
    assert m["first_statement_answers"] >= FIRST_ANSWERS
    assert m["disclaimer_rate"] == 1.0


def test_quality_case_set_is_big_enough():
    cases = load_cases(QUALITY)
    answerable = [c for c in cases if c.expect == "answer"]
    assert len(answerable) >= 40 and all(c.nuggets for c in answerable)
    assert sum(c.expect == "not_covered" for c in cases) >= 15
    assert len(load_cases(BLIND)) >= 12
    pages = {p for c in answerable for p in c.source_doc}
    assert {"100_lip_filler", "101_chemical_peel"} <= pages


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("Can I drink alcohol after Botox?", "drink alcohol"),
        ("Is a sauna okay after Botox?", "sauna"),
        ("Is homemade botox from garden botulism safe?", "homemade botox from garden botulism"),
    ],
)
def test_uncovered_focus_is_named_in_the_patients_words(quality_bot, question, named):
    reply = quality_bot.answer(question)
    assert reply.kind == "partial" and not reply.abstained and reply.citations == ()
    assert reply.text == prompts.load("not_covered").format(focus=named)
    assert reply.disclaimer == prompts.disclaimer()


def test_first_statement_answers_the_question(quality_bot):
    reply = quality_bot.answer("How long does bruising last after lip filler?")
    assert reply.kind == "answer"
    assert "7 to 10 days" in quoted_statements(reply.text)[0]


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        # Paraphrase: the answer shares no focus word ("made"), but it is a definition.
        ("What is Botox actually made of?", "purified protein"),
        ("What helps swelling after lip filler?", "Ice packs"),
        ("Should someone with Bell's palsy get Botox?", "not to use Botox"),
        ("Will my face stay frozen forever after Botox?", "wear off"),
    ],
)
def test_the_sentence_that_answers_comes_first(quality_bot, question, answer):
    reply = quality_bot.answer(question)
    assert reply.kind == "answer"
    assert answer in quoted_statements(reply.text)[0]


def test_a_question_asks_for_the_shape_of_its_answer():
    made_of = asked_shapes("What is Botox actually made of?")
    assert made_of and has_shape("Botox is a purified protein used for wrinkles.", made_of)
    assert not has_shape("It will wear off and can be made again.", made_of)
    how_long = asked_shapes("How long does swelling last?")
    assert has_shape("It can last up to two weeks.", how_long)
    assert has_shape("Most settle within 7 to 10 days.", how_long)
    assert asked_shapes("Is Botox permanent?") == ()


def test_an_activity_the_doctors_do_not_address_is_not_covered(seed_bot):
    """Close to "Botox will wear off in 3 months" as a whole, but no doctor mentions walking."""
    reply = seed_bot.answer("When can I go for a walk after my Botox?")
    assert reply.kind == "partial" and reply.citations == ()
    assert reply.text == prompts.load("not_covered").format(focus="walk")


def test_time_off_work_is_answered_not_referred(quality_bot):
    reply = quality_bot.answer("How much time off work do I need for a medium peel?")
    assert reply.kind == "answer"
    assert "one week off work" in quoted_statements(reply.text)[0]


def test_agreeing_doctors_say_the_same_figures(quality_bot):
    reply = quality_bot.answer("How long does Botox last?")
    for paragraph in reply.text.split("\n\n"):
        if not quoted_statements(paragraph):
            continue  # the figures line: each figure is cited to the answers that give it
        quote = quoted_statements(paragraph)[0]
        for cite in reply.citations:
            if f"[{cite.marker}]" in paragraph:
                assert any(exactly_supports(q, quote) for q in cite.quote), (quote, cite.quote)


def test_focus_leaves_out_topic_and_asking_words():
    frequency = {"botox": 90, "alcohol": 0, "drink": 1}.get
    focus = focus_of("Is it safe to drink alcohol after Botox?", lambda s: frequency(s, 0), 100)
    assert set(focus.weights) == {"drink", "alcohol"}
    assert focus.weights["alcohol"] > focus.weights["drink"]
    story = focus_of(
        "I had it four weeks ago and I cannot move. Is that permanent?", lambda s: 0, 10
    )
    assert set(story.weights) == {"perman"}  # the story is context; the question is the focus


def test_a_relation_verb_weighs_no_more_than_what_it_relates(quality_bot, tmp_path):
    """ "Can a chemical peel cause a droopy eyelid?" was answered with "Sun exposure after a peel
    can cause dark patches." ("cause", rare on these pages, was its heaviest focus word), and
    "Can a chemical peel cause redness?" opened with the same sentence. quality_cause.jsonl was
    written before the change (first statement 4 of 5 then; its blind twin 1 of 3)."""
    frequency = {"peel": 3, "caus": 1, "droopi": 4, "eyelid": 4}.get
    focus = focus_of("Can a chemical peel cause a droopy eyelid?", lambda s: frequency(s, 0), 40)
    assert focus.weights["caus"] <= min(w for s, w in focus.weights.items() if s != "caus")
    alone = focus_of("What causes it?", lambda s: frequency(s, 0), 40)
    assert set(alone.weights) == {"caus"}  # nothing else to relate: it keeps its weight
    m = metrics(_run(quality_bot, load_cases(CAUSE), tmp_path).results)
    assert m["first_statement_answers"] == 1.0 and m["uncovered_honest"] == 1.0
    assert m["false_not_covered"] == 0.0 and len(load_cases(CAUSE_BLIND)) >= 6
    reply = quality_bot.answer("Can a chemical peel cause a droopy eyelid?")
    assert reply.kind in ("partial", "abstain") and "dark patches" not in reply.text


def test_an_irregular_form_meets_its_base(quality_bot):
    """ "How do I treat swollen lips after filler?" opened with the blocked-vessel warning: to the
    stemmer "swollen" was no form of "swelling" (bot/wordlists/irregular_forms.txt)."""
    from bot.words import stem, stems

    assert stem("swollen") == stem("swelling") and "wear" in stems("Has it worn off?")
    reply = quality_bot.answer("How do I treat swollen lips after filler?")
    assert "Ice packs" in quoted_statements(reply.text)[0]


def test_an_inheritance_question_asks_how_it_is_inherited():
    # MedQuAD "Is X inherited?": 5 of 21 dev replies (8 of 29 on a second sample) opened with
    # how rare X is; "hereditary" in a name asks nothing.
    inherited = asked_shapes("Is Marinesco-Sjogren syndrome inherited ?")
    assert has_shape("It is inherited in an autosomal recessive pattern.", inherited)
    assert not has_shape("Marinesco-Sjogren syndrome appears to be a rare condition.", inherited)
    assert asked_shapes("Can I pass it to my children?") and asked_shapes("Is it genetic?")
    treated = asked_shapes("What are the treatments for hereditary pancreatitis ?")
    assert not has_shape("It is inherited in an autosomal dominant pattern.", treated)


def test_a_question_asking_what_causes_it_is_answered_with_a_cause(embedder):
    # MedQuAD "What causes X?": 5 of 12 dev replies (6 of 14 on a second sample, 2 of 13 on a
    # third, blind) opened with a definition ("Bronchitis is a very common condition.").
    causes = asked_shapes("What causes Bronchitis ?")
    assert has_shape("Smoking is the main cause of chronic bronchitis.", causes)
    assert not has_shape("Bronchitis is a very common condition.", causes)
    assert asked_shapes("What is the cause of cold urticaria?")
    # Whether one thing leads to another asks about the other thing, not for a cause.
    assert not asked_shapes("Can a chemical peel cause redness?")
    texts = [
        "Bronchitis is a very common condition. It affects the airways of the lungs.",
        "Smoking is the main cause of chronic bronchitis.",
    ]
    question = "What causes Bronchitis ?"
    composer = ExtractiveComposer(embedder.embed, min_relevance=0.0)
    docs = [
        Document(page_content=t, metadata={"answer_id": f"a{i}"}, id=f"a{i}")
        for i, t in enumerate(texts)
    ]
    first = composer.compose(question, docs, embedder.embed_query(question)).statements[0]
    assert first.quote == texts[1]


@pytest.mark.parametrize(
    ("question", "answers", "beside_it"),
    [
        (
            "What are the symptoms of Glaucoma ?",
            "At first, open-angle glaucoma has no symptoms.",
            "A comprehensive eye exam can tell if you have glaucoma.",
        ),
        (
            "What is the outlook for Migraine ?",
            "There is no absolute cure for migraine.",
            "Many things can trigger a migraine.",
        ),
        (
            "How to prevent Gum Disease ?",
            "Brushing twice a day helps prevent gum disease.",
            "The two forms of gum disease are gingivitis and periodontitis.",
        ),
        (
            "What are the genetic changes related to Pallister-Hall syndrome ?",
            "Mutations in the GLI3 gene cause Pallister-Hall syndrome.",
            "Pallister-Hall syndrome affects the development of many parts of the body.",
        ),
    ],
)
def test_the_kinds_of_question_medquad_asks_have_their_shapes(question, answers, beside_it):
    # MedQuAD dev 300: first statements with the asked kind of answer, symptoms 18 of 29,
    # outlook 4 of 13, prevention 1 of 4, genetic changes 10 of 15 (the old replies, beside_it).
    shapes = asked_shapes(question)
    assert has_shape(answers, shapes) and not has_shape(beside_it, shapes)


def test_a_question_asking_for_a_remedy_is_answered_with_one_first(quality_bot, tmp_path):
    """ "Is there a treatment for a droopy eyelid after Botox?" opened with "... getting a droopy
    eyelid is not the goal of treatment ..."; "What can I do about swelling after lip filler?"
    was read as asking what activity is safe afterwards. quality_remedy.jsonl was written before
    the remedy cues were widened: 0 of 6 first statements answered then (its blind twin 0 of 4)."""
    assert not asked_shapes("What can I do about swelling after lip filler?", must=True)
    assert not asked_shapes("How can I avoid dark patches after a chemical peel?", must=True)
    assert asked_shapes("Can I go for a walk after my Botox?", must=True)
    remedy = asked_shapes("Is there a treatment for a droopy eyelid?")
    assert has_shape("Diabetic heart disease is treated with lifestyle changes.", remedy)
    assert not has_shape("I have treated thousands of patients with Botox.", remedy)
    m = metrics(_run(quality_bot, load_cases(REMEDY), tmp_path).results)
    assert m["first_statement_answers"] >= 0.83 and m["uncovered_honest"] == 1.0
    assert m["false_not_covered"] == 0.0 and len(load_cases(REMEDY_BLIND)) >= 5
    reply = quality_bot.answer("Is there a treatment for a droopy eyelid after Botox?")
    assert "eye drops" in quoted_statements(reply.text)[0]


@pytest.mark.parametrize(
    ("sentence", "ok"),
    [
        ("The signs and symptoms of diabetes are", False),
        ("The common side effects of lip filler are:", False),
        ("Botox and Bell's Palsy", False),
        ("How might Klippel-Trenaunay syndrome be treated?", False),  # a MedQuAD heading
        ('Is it permanent?"', False),
        ("Botox wears off by itself, usually in 3 months.", True),
        # GARD boilerplate above a table the sentence does not carry (2,225 MedQuAD answers)
        ("If the information is available, the table below includes how often it is seen.", False),
    ],
)
def test_list_intros_and_headings_are_not_statements(sentence, ok):
    assert statement_like(sentence) is ok


@pytest.mark.parametrize(
    ("sentence", "ok"),
    [
        # A sentence that announces a list the quote does not carry says nothing by itself.
        (
            "The Human Phenotype Ontology provides the following list of signs and symptoms "
            "for Optic atrophy 1.",
            False,
        ),
        ("Infantile hemangiomas may cause any of the following signs and symptoms.", False),
        ("The staging system is widely used and is described below.", False),
        ("Doctors may prescribe one or more of the medicines listed below.", False),
        ("The stages of the disease are as follows.", False),
        # The list is in the sentence, or "following" means "after": statements.
        ("The following tests may be used: a physical exam and a blood test.", True),
        ("Swelling usually goes down the following day.", True),
        ("Bleeding is prolonged following an injury or surgery.", True),
        ("Pain or a feeling of fullness below the ribs is common.", True),
    ],
)
def test_a_sentence_announcing_a_list_it_lacks_is_not_a_statement(sentence, ok):
    assert statement_like(sentence) is ok


def test_sentences_about_the_askers_case_are_recognised():
    assert case_specific("Your photo suggests that your Botox was injected in error.")
    assert not case_specific("Botox wears off by itself, usually in 3 months.")


def test_exact_support_checks_numbers_and_negation():
    assert exactly_supports(
        "The effects should wear off in about 3 months.", "wears off in 3 months"
    )
    assert not exactly_supports("It will wear off in 3-4 months.", "wears off in 3 months")
    assert not exactly_supports("Botox is permanent.", "Botox is not permanent.")


def test_composer_drops_a_repeated_claim(embedder):
    docs = [
        Document(page_content=t, metadata={"answer_id": f"a{i}", "doctor": "X"}, id=f"a{i}")
        for i, t in enumerate(
            [
                "The effects of Botox are not permanent.",
                "The effects of Botox are not permanent at all.",
                "Swelling may last two weeks after filler.",
            ]
        )
    ]
    question = "Is Botox permanent?"
    composer = ExtractiveComposer(embedder.embed, min_relevance=0.0)
    got = composer.compose(question, docs, embedder.embed_query(question))
    quotes = [s.quote for s in got.statements]
    assert sum("not permanent" in q for q in quotes) == 1
    assert not redundant_pairs(quotes, embedder.embed)


def test_a_claim_repeated_without_naming_the_treatment_is_said_once(seed_bot, tmp_path):
    """On the seed pages alone (what `make run` serves), "How long until my face stops looking
    lopsided after Botox?" quoted "The botox will wear off with time - perhaps 3 months." and then
    "The effects should wear off in about 3 months." (cosine 0.59: the second never names Botox).
    quality_repeat.jsonl was written before the change (1 redundant pair then, under the eval's
    claim-word rule; its blind twin also 1, reported in BENCHMARKS.md, not held to this)."""
    m = metrics(_run(seed_bot, load_cases(REPEAT), tmp_path).results)
    assert m["redundant_pairs"] == 0 and m["false_not_covered"] == 0.0
    assert len(load_cases(REPEAT_BLIND)) >= 6
    reply = seed_bot.answer("How long until my face stops looking lopsided after Botox?")
    quotes = quoted_statements(reply.text)
    assert sum("wear off" in q for q in quotes) == 1, reply.text
    assert '"about 3 months"' in reply.text  # the other doctor is heard in the figures line
    assert redundant_pairs(
        ["Botox will wear off in approximately 3 months.", "The effects wear off in 3 months."]
    )
    assert not redundant_pairs(
        ["Swelling usually lasts about 2 weeks.", "Bruising usually lasts about 2 weeks."]
    )


def test_a_list_intro_and_its_items_on_one_line_are_not_quoted(embedder):
    # MedQuAD: 3 of 300 dev replies quoted such a line for "What are the genetic changes ...?"
    resources = (
        "These resources address the diagnosis or management of familial porencephaly: - Gene "
        "Review: COL4A1-Related Disorders - Genetic Testing Registry: Familial porencephaly"
    )
    table = "Signs and Symptoms Autosomal dominant inheritance - Blepharospasm - Clumsiness"
    assert flattened_list(resources) and not flattened_list(table)
    assert not flattened_list("It wears off with time - perhaps 3 months: see your injector.")
    docs = [
        Document(page_content=t, metadata={"answer_id": f"a{i}"}, id=f"a{i}")
        for i, t in enumerate(
            [resources, "Familial porencephaly is caused by mutations in the COL4A1 gene."]
        )
    ]
    question = "What are the genetic changes related to familial porencephaly?"
    composer = ExtractiveComposer(embedder.embed, min_relevance=0.0)
    got = composer.compose(question, docs, embedder.embed_query(question))
    assert [s.quote for s in got.statements] == [docs[1].page_content]


@pytest.mark.parametrize(
    ("sentence", "left"),
    [  # MedQuAD pages that lost their line breaks: 9 of 300 dev replies quoted such a heading
        ("Key Points There are different types of treatment for X.", "There are different"),
        ("Many Treatment Options There are many options.", "There are many options."),
        ("Treatment for Dry Mouth Dry mouth treatment will depend on the cause.", "Dry mouth "),
        (
            "Treatment Options for Bone Tumors Localized Bone Tumors Treatment may include surgery.",
            "Treatment may include surgery.",
        ),
        ("Osteosarcoma and Malignant Fibrous Histiocytoma Treatment of it may vary.", "Treatment"),
        ("The effects of Botox are not permanent.", "The effects"),  # no heading
        ("Hyaluronic acid lip fillers usually last 6 to 12 months.", "Hyaluronic"),
        ("In some people it lasts longer, up to a year.", "In some"),
        # A label ending in a colon (6 of 155 LiveQA quotes at MedQuAD scale opened "Summary : ")
        ("Summary : An arrhythmia is any disorder of your heart rate or rhythm.", "An arrhythmia"),
        ("Key Points: Botox wears off in 3 months.", "Botox wears"),
        ("Treatment options: Surgery is one of them.", "Surgery is"),
        ("Botox: it lasts about 3 months.", "Botox: it"),  # goes on in lower case: no label
        ("The answer is simple: Botox wears off.", "The answer"),  # a clause, not a label
        ("At 3:30 PM the clinic closes.", "At 3:30"),
    ],
)
def test_a_heading_glued_to_a_sentence_is_not_quoted(sentence, left):
    assert without_heading(sentence).startswith(left)


def test_a_sentence_pointing_at_other_material_is_not_a_statement(embedder):
    # 8 of 300 MedQuAD dev replies quoted one ("See a glossary of glaucoma terms." came first).
    for pointer in (
        "See a glossary of glaucoma terms.",
        "(Watch the video to learn how dry mouth is treated.",
        "Click on the links below for more information on the types of this condition.",
        "Learn more about treatments for chronic lymphocytic leukemia.",
        "Find out more about clinical trials near you.",
    ):
        assert points_elsewhere(pointer) and not statement_like(pointer)
    for advice in (
        "See your doctor if the swelling lasts.",
        "Always see a Board Certified Surgeon.",
    ):
        assert statement_like(advice) and not points_elsewhere(advice)
    texts = [
        "See a glossary of glaucoma terms. Key Points The disease damages the optic nerve.",
        "At first, open-angle glaucoma has no symptoms.",
    ]
    got = _candidates(embedder, "What are the symptoms of glaucoma?", texts)
    assert got == {"The disease damages the optic nerve.", texts[1]}


def _candidates(embedder, question: str, texts: list[str]) -> set[str]:
    """The sentences of these answers the composer scores as candidates for the question."""
    docs = [
        Document(page_content=t, metadata={"answer_id": f"a{i}"}, id=f"a{i}")
        for i, t in enumerate(texts)
    ]
    composer = ExtractiveComposer(embedder.embed, min_relevance=0.0)
    return {c.sentence for c in composer.score(question, docs, embedder.embed_query(question))}


def test_a_run_of_names_or_headings_is_not_a_statement(embedder):
    # MEDIQA answers that lost their line breaks: a link list run together was quoted twice in a
    # reply; MedQuAD has 140 such lines among 29,766 statement-like sentences of 3,000 answers.
    for run in (
        "NIH: National Institute of Allergy and Infectious Diseases",
        "National Library of Medicine Drug Information Portal Medline Plus Health Information",
        "Signs and Symptoms of Broken Heart Syndrome",
    ):
        assert title_run(run) and not statement_like(run)
    for said in (
        "NEVER GET FILLER FROM AN UNLICENSED INJECTOR.",  # capitals throughout: shouted, said
        "I Recommend Seeing A Board Certified Dermatologist.",  # Title Case, with its subject
        "Botox Is Not Permanent.",
        "Most cases of APL are treated with all-trans retinoic acid (ATRA).",
    ):
        assert statement_like(said) and not title_run(said)
    texts = [
        "Most cases of APL are treated with chemotherapy plus all-trans retinoic acid. "
        "National Library of Medicine Drug Information Portal Medline Plus Health Information",
        "Learn more about treatments for acute myeloid leukemia.",
    ]
    got = _candidates(embedder, "How is acute promyelocytic leukemia treated?", texts)
    assert got == {"Most cases of APL are treated with chemotherapy plus all-trans retinoic acid."}


def test_quality_helpers():
    text = 'One doctor notes: "Lip filler is not permanent." [1]\n\nNone here.'
    assert quoted_statements(text) == ["Lip filler is not permanent."]
    assert has_nugget("It lasts  6 to 12 MONTHS.", ["6 to 12 months"])
    pairs = redundant_pairs(["Botox wears off in 3 months.", "Botox wears off in 3 months!"])
    assert len(pairs) == 1


def test_rouge_recipe():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from rouge import lcs, rouge

    got = rouge("the cat sat on the mat", "the cat was sitting on the mat")
    assert np.isclose(got["rouge1"], 2 * (5 / 6) * (5 / 7) / (5 / 6 + 5 / 7))
    assert np.isclose(got["rouge2"], 2 * 0.6 * 0.5 / 1.1)
    assert lcs(list("abcbdab"), list("bdcaba")) == 4
    assert rouge("", "x")["rougeL"] == 0.0


def test_part_covered_questions(quality_bot, tmp_path):
    """Questions with a part the pages cover and a part they do not, misspelt questions and
    two-part questions (quality_parts.jsonl; its blind twin is reported, not held to this)."""
    m = metrics(_run(quality_bot, load_cases(PARTS), tmp_path).results)
    assert m["uncovered_honest"] == HONEST  # every part-covered question is marked partial
    assert m["false_not_covered"] == 0.0  # no misspelt or two-part question is turned away
    assert m["first_statement_answers"] >= FIRST_ANSWERS
    assert m["redundant_pairs"] == 0
    assert len(load_cases(PARTS_BLIND)) >= 8


def test_focus_spread_over_different_answers_is_not_covered(quality_bot, tmp_path):
    """Questions whose focus words only different answers contain ("Can a chemical peel cause a
    droopy eyelid?": peel answers, and Botox answers on eyelids), beside questions one answer
    does address (quality_joint.jsonl; its blind twin is reported, not held to this)."""
    m = metrics(_run(quality_bot, load_cases(JOINT), tmp_path).results)
    # Floor: 5 of 6 measured when the focus came to be judged on the answers on the question's
    # subject (bot/answer/coverage.py); 0 of 6 before. The one left: "cause" is in a peel answer.
    assert m["uncovered_honest"] >= 0.83
    assert m["false_not_covered"] == 0.0
    assert len(load_cases(JOINT_BLIND)) >= 8


def test_a_question_asking_a_time_span_is_answered_with_one_first(quality_bot, tmp_path):
    """Questions asking how long a specific effect lasts ("How long until a droopy eyelid from
    Botox gets better?"), where the sentences naming the effect give no time span but the same
    page says how long Botox lasts (quality_shape.jsonl; its blind twin is reported, not held to
    this). Written before the shaped lead (compose._shaped_lead): 4 of 6 first statements
    answered then, on both halves."""
    m = metrics(_run(quality_bot, load_cases(SHAPE), tmp_path).results)
    assert m["first_statement_answers"] == 1.0
    assert m["false_not_covered"] == 0.0 and m["redundant_pairs"] == 0
    assert len(load_cases(SHAPE_BLIND)) >= 6
    reply = quality_bot.answer("How long until a droopy eyelid from Botox gets better?")
    first = quoted_statements(reply.text)[0]
    assert "month" in first and "eyelid" in reply.text  # the span first, the eyelid still there


def test_an_answer_that_names_nothing_of_the_subject_is_not_quoted(quality_bot):
    """A lip filler answer ("Bruising is common and usually fades within 7 to 10 days.") was
    quoted for a Botox question, and counted among the answers considered."""
    reply = quality_bot.answer("How long until my face stops looking lopsided after Botox?")
    assert reply.kind == "answer" and reply.citations
    assert {c.page_id for c in reply.citations} <= BOTOX_PAGES
    assert "Bruising" not in reply.text and "of 7)" not in reply.text


def test_off_topic_answers_are_those_naming_none_of_the_subject():
    def doc(answer: str, title: str, text: str) -> Document:
        return Document(text, metadata={"answer_id": answer, "page_title": title})

    docs = [
        doc("b#1", "Is Botox permanent?", "It wears off in 3 months."),
        doc("f#1", "How long does lip filler last?", "Bruising fades within 7 to 10 days."),
    ]
    botox = Focus("How long after Botox?", {"lopsid": 3.0}, {}, topic=frozenset({"botox"}))
    assert off_topic(docs, botox) == {"f#1"}
    # A focus word in a page's title is part of the subject too; nobody named: nothing is off.
    filler = Focus("Botox or lip filler?", {"filler": 2.0}, {}, topic=frozenset({"botox"}))
    assert off_topic(docs, filler) == frozenset()
    assert off_topic(docs, Focus("x", {"zebra": 1.0}, {})) == frozenset()
    # MedQuAD: "symptom" is in much of the corpus and in the title of every page on symptoms,
    # so it tells no answer apart; the heaviest title word ("Scheie") is the subject then.
    pages = [
        doc("s#1", "What are the symptoms of Scheie syndrome?", "Symptoms include stiff joints."),
        doc("z#1", "What are the symptoms of Schizencephaly?", "Symptoms include seizures."),
    ]
    scheie = Focus("Scheie?", {"scheie": 8.5, "syndrom": 1.7}, {}, topic=frozenset({"symptom"}))
    assert off_topic(pages, scheie) == {"z#1"}


def test_a_name_no_retrieved_answer_has_is_not_said_in_other_words():
    """A name the model knows only in pieces that no retrieved answer contains is missing, in
    a large index, however close a sentence's vector ("Scheie" against "schizencephaly")."""
    from bot.answer.coverage import check_focus

    docs = [Document("Signs and symptoms of schizencephaly may include seizures.", metadata={})]
    df = {"scheie": 3, "syndrom": 900, "symptom": 9000}.get

    def close(texts):  # every sentence as close to the question as can be
        return [[1.0, 0.0] for _ in texts]

    args = ("What are the symptoms of Scheie syndrome?", docs, (lambda s: df(s, 0), 20_000))
    focus, missing = check_focus(*args, close, lambda _: [1.0, 0.0], knows=lambda w: False)
    assert "scheie" in focus.unknown and missing
    _, small = check_focus(*args[:2], (lambda s: df(s, 0), 500), close, lambda _: [1.0, 0.0])
    assert small is None  # a few pages lack most words: closeness still counts there


def test_what_the_answers_on_the_subject_lack_is_named(quality_bot):
    # Bell's palsy is on the Botox page only: the lip filler answers never mention it.
    reply = quality_bot.answer("Is lip filler safe for someone with Bell's palsy?")
    assert reply.kind == "partial" and not reply.citations
    assert reply.text.startswith(prompts.load("not_covered").format(focus="Bell's palsy"))
    covered = quality_bot.answer("Can hyaluronidase dissolve silicone filler?")
    assert covered.kind == "answer"
    assert "cannot be dissolved" in " ".join(quoted_statements(covered.text))


def test_a_part_covered_question_says_what_is_missing_then_answers_the_rest(quality_bot):
    reply = quality_bot.answer("How long will I peel after a medium peel? Can I fly on a plane?")
    assert reply.kind == "partial" and reply.citations
    note, intro, *statements = reply.text.split("\n\n")
    assert note == prompts.load("not_covered").format(focus="fly on a plane")
    assert intro == prompts.load("covered_part")
    assert "5 to 7 days" in quoted_statements("\n\n".join(statements))[0]
    assert "fly" not in " ".join(quoted_statements(reply.text)).lower()
    assert reply.disclaimer == prompts.disclaimer()


def test_a_question_that_only_misspells_the_answers_words_is_answered(quality_bot):
    reply = quality_bot.answer("Can hyaluronic acid filler be disolved?")
    assert reply.kind == "answer"
    assert "hyaluronidase" in quoted_statements(reply.text)[0].lower()


def test_two_questions_in_one_are_answered_in_their_order(quality_bot):
    reply = quality_bot.answer("How long does lip filler last, and can it be dissolved?")
    first, *rest = quoted_statements(reply.text)
    assert "months" in first
    assert any("dissolv" in s.lower() for s in rest)


def test_a_message_splits_into_the_parts_it_asks():
    assert question_parts("How long does Botox last, and can I drink alcohol after it?") == [
        "How long does Botox last",
        "can I drink alcohol after it?",
    ]
    assert question_parts("Is Botox permanent? How much does it cost?") == [
        "Is Botox permanent?",
        "How much does it cost?",
    ]
    one = "I had Botox 2 weeks ago and my eyelid droops. Is it permanent?"
    assert question_parts(one) == [one]
    assert question_parts("how long does lip filler last") == ["how long does lip filler last"]
    # "and" that joins two things asked about, not two questions, does not split
    both = "Can Botox and filler be done on the same day?"
    assert question_parts(both) == [both]


@pytest.mark.parametrize(
    ("word", "meant_word"),
    [
        ("permanant", "permanent"),
        ("disolved", "dissolved"),
        ("cysys", "cysts"),
        ("diagonses", "diagnoses"),
        ("risky", "risk"),
        ("insurence", "insurance"),
        ("assurance", None),  # another word, differing in its first letter
        ("botulism", None),  # a real word two edits from "botulinum"
        ("alcohol", None),
        ("cost", None),  # too short to tell
    ],
)
def test_a_misspelling_is_matched_to_the_answers_word(word, meant_word):
    words = vocabulary(
        [
            "Botox is not permanent. Hyaluronidase dissolved it. Thyroid cysts and diagnoses.",
            "The risk is low. Insurance, costs and botulinum toxin.",
        ]
    )
    assert meant(word, words) == meant_word


def test_edit_distance_counts_a_swap_as_one():
    assert edit_distance("diagonses", "diagnoses", 2) == 1
    assert edit_distance("filler", "fillers", 1) == 1
    assert edit_distance("abc", "xyz", 1) == 2  # over the limit: limit + 1


def test_the_model_knows_whole_words_only(embedder):
    assert embedder.knows("alcohol") and embedder.knows("Fade")
    assert not embedder.knows("carvedilol")


@pytest.mark.parametrize(
    ("question", "phrase", "word_only"),
    [
        (
            "What is Botox actually made of?",
            "Botox is made of a purified protein.",
            "Adjustments can be made at the next visit if necessary.",
        ),
        (
            "What is a chemical peel made from?",
            "Most peels are made from acids such as glycolic or trichloroacetic acid.",
            "Results are made to last with good skin care.",
        ),
    ],
)
def test_a_focus_word_asked_in_a_phrase_counts_only_in_that_phrase(question, phrase, word_only):
    # "made" of "made of" is not the "made" of "can be made": a sentence with the word outside
    # the phrase does not contain what the question asks about.
    from bot.answer.focus import focus_of
    from bot.answer.sentence_scores import lexical_share

    focus = focus_of(question, lambda s: 1, 100).weights
    with_phrase, without = lexical_share(question, [phrase, word_only], focus)
    assert with_phrase > 0
    assert without == 0


def test_a_focus_word_outside_any_asked_shape_counts_anywhere():
    from bot.answer.answer_shape import shape_words
    from bot.answer.sentence_scores import lexical_share

    question = "When can I exercise after Botox?"  # "exercise" is what is asked about
    assert "exercise" not in shape_words(question)
    assert {"made"} <= set(shape_words("What is Botox made of?"))
    focus = focus_of("Is bruising common after lip filler?", lambda s: 1, 100).weights
    a, b = lexical_share(
        "Is bruising common after lip filler?",
        ["Bruising is common after lip filler.", "Lip filler bruising is common."],
        focus,
    )
    assert a == b > 0
