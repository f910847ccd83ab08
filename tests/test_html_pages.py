"""HTML pages: schema.org QAPage data (JSON-LD, microdata), main-text fallback, hostile pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from vectorstore.corpus import read_file
from vectorstore.errors import InputFileError
from vectorstore.html_page import parse_html

HTML = Path(__file__).parent / "data" / "html"
MARKUP = ("<", ">", "script", "alert", "onload", "onerror", "onclick", "javascript:", "{{", "}}")
MARKUP += ("svg", "iframe", "evil.example", "![", "](", "&lt;", "&amp;", "display:none")


def _page(name: str):
    (page,) = read_file(HTML / name).pages
    return page


def test_json_ld_qapage():
    page = _page("jsonld_qapage.html")
    assert page.id == "jsonld_qapage"
    assert page.title == "How long does Sculptra last?"
    assert page.body.startswith("I am 52 and thinking about Sculptra")
    assert page.url == "https://answers.example.com/q/how-long-does-sculptra-last"
    assert page.declared_answers == 3
    first, second, third = page.answers
    assert (first.doctor, first.credentials, first.location, first.specialty) == (
        "Miriam Castellanos",
        "MD, FAAD",
        "San Antonio",
        "Dermatologist",
    )
    assert first.text == (
        "Sculptra results usually last about two years.\n\nIt works by making your skin build "
        "its own collagen, so the result appears gradually over a few months & fades slowly."
    )
    assert (first.upvotes, first.date) == (14, "2024-03-03")
    assert first.url == "https://answers.example.com/q/how-long-does-sculptra-last#answer-1"
    assert first.author_url == "https://answers.example.com/doctor/miriam-castellanos"
    assert (second.doctor, second.credentials, second.location, second.specialty) == (
        "Benjamin Adler",
        "MD",
        "Chicago",
        "Facial Plastic Surgeon",
    )
    assert second.text.endswith("A touch-up once a year keeps it going.")
    assert (second.upvotes, second.date, second.author_url) == (5, "2024-03-04", None)
    assert second.url == page.url  # an answer without its own URL links to the page
    assert third.doctor is None and third.attribution == "a doctor who answered on this page"
    assert (third.date, third.upvotes) == ("2024-03-06", None)
    assert page.warnings == ()


def test_microdata_qapage():
    page = _page("microdata_qapage.html")
    assert page.title == "Is a numb lip normal after filler?"
    assert page.body == "My upper lip has felt numb for a day since my filler. Is this normal?"
    assert page.url == "https://clinic.example.org/questions/numb-lip-after-filler"
    assert page.declared_answers == 2
    first, second = page.answers
    assert (first.doctor, first.credentials, first.location, first.specialty) == (
        "Aisha Rahman",
        "MD",
        "Toronto",
        "Plastic Surgeon",
    )
    assert first.text == (
        "Most lip fillers contain lidocaine, so the lip can feel numb for a few hours.\n\n"
        "Numbness that lasts more than a day should be checked by your injector."
    )
    assert (first.upvotes, first.date) == (7, "2023-11-20")
    assert (second.doctor, second.credentials, second.specialty) == (
        "Felix Morgan",
        "DO",
        "Dermatologist",
    )
    assert (second.upvotes, second.date) == (3, "2023-11-21")


def test_page_without_structured_data_falls_back_to_its_main_text():
    page = _page("plain_page.html")
    assert page.title == "Can I drink alcohol after Botox?"
    assert page.body.startswith("I have a wedding the evening after my Botox appointment.")
    assert page.url == "https://www.example.net/answers/alcohol-after-botox"
    assert page.declared_answers == 3
    doctors = [(a.heading, a.doctor, a.credentials, a.location, a.specialty) for a in page.answers]
    assert doctors == [
        ("Wait 24 hours", "Nadia Volkova", "MD", "Brooklyn", "Dermatologist"),
        (
            "One glass is unlikely to matter",
            "Henry Walsh",
            None,
            "Denver",
            "Facial Plastic Surgeon",
        ),
        ("Bruising is the concern", "Chloe Bernard", "MD, FRCSC", "Montreal", "Plastic Surgeon"),
    ]
    assert page.answers[0].rating == 4.8 and page.answers[0].review_count == 74
    assert page.answers[2].text == (
        "The toxin itself is not affected by alcohol. If you bruise easily, wait a day."
    )
    for answer in page.answers:
        for bad in ("tracking", "Related questions", "Privacy", "educational", "Find a doctor"):
            assert bad not in answer.text


def test_hostile_page_keeps_only_plain_text_and_no_unsafe_url():
    page = _page("hostile.html")
    assert page.url is None  # javascript: canonical, data: og:url
    assert page.title == "Can I put ice on my face after Botox?"
    first, second = page.answers
    assert first.text == (
        "Yes, a cold pack wrapped in a cloth for ten minutes at a time is fine after Botox.\n\n"
        "Do not press hard on the injected areas for the first day.\n\nread more Book a visit"
    )
    assert (first.doctor, first.credentials, first.author_url) == ("Tessa Lund", "MD", None)
    assert second.text == ("Ice is fine. Swelling after Botox usually settles within a few hours.")
    for text in (page.title, page.body, *(a.text for a in page.answers)):
        for bad in MARKUP:
            assert bad not in text, (bad, text)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # declared windows-1252, and it is
        (b'<meta charset="windows-1252">' + "Caf\u00e9 \u2019".encode("cp1252"), "Café ’"),
        # declared utf-8 but saved as windows-1252
        (b'<meta charset="utf-8">' + "Caf\u00e9 \u2019".encode("cp1252"), "Café ’"),
        # declared latin-1 but saved as utf-8
        (b'<meta charset="iso-8859-1">' + "Caf\u00e9 \u2019".encode(), "Café ’"),
        # no declaration, UTF-16 with a byte order mark
        ("<p>Caf\u00e9 \u2019</p>".encode("utf-16"), "Café ’"),
    ],
)
def test_wrong_or_missing_encodings_are_read_right(data, expected):
    from vectorstore.html_text import decode_html

    assert expected in decode_html(data)


def _answer_html(n: int) -> str:
    return (
        f'<div itemprop="suggestedAnswer" itemscope itemtype="https://schema.org/Answer">'
        f'<div itemprop="text">Answer number {n} says filler lasts about {n} months.</div>'
        f'<div itemprop="author" itemscope itemtype="https://schema.org/Person">'
        f'<span itemprop="name">Doctor Number{chr(65 + n % 26)}, MD</span></div></div>'
    )


def test_huge_page_is_read():
    junk = "<div><a href='/x'>link</a> <span onclick='x()'>menu</span></div>\n" * 40_000
    html = (
        '<html><body itemscope itemtype="https://schema.org/QAPage"><nav>' + junk + "</nav>"
        '<div itemprop="mainEntity" itemscope itemtype="https://schema.org/Question">'
        '<h1 itemprop="name">How long does filler last?</h1>'
        + "".join(_answer_html(n) for n in range(1, 41))
        + "</div></body></html>"
    )
    assert len(html) > 2_500_000
    page = parse_html(html.encode(), "huge", "huge.html")
    assert len(page.answers) == 40
    assert page.answers[39].text == "Answer number 40 says filler lasts about 40 months."


def test_page_over_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "big.html"
    path.write_bytes(b"<html><body>" + b"x" * (21 * 1024 * 1024) + b"</body></html>")
    with pytest.raises(InputFileError, match="too large"):
        read_file(path)


def test_html_that_is_no_qa_page_is_a_clear_error():
    with pytest.raises(InputFileError, match=r"not_a_qa_page\.html") as info:
        read_file(HTML / "not_a_qa_page.html")
    assert "no schema.org QAPage data" in str(info.value)


def test_div_layout_without_structured_data():
    # Inline names inside signature containers, a badge line, vote widgets with unrendered
    # {{ }} placeholders, a count in a <span>, a legal footer inside the page.
    page = _page("divs_no_schema.html")
    assert page.title == "Is it safe to get Botox while pregnant?"
    assert page.declared_answers == 2 and page.warnings == () and page.notes == ()
    assert page.url == "https://qa.example.com/questions/botox-while-pregnant"
    rows = [
        (a.heading, a.doctor, a.credentials, a.location, a.specialty, a.rating, a.review_count)
        for a in page.answers
    ]
    assert rows == [
        (
            "Not recommended during pregnancy",
            "Laila Haddad",
            "MD",
            "Boston",
            "Dermatologist",
            4.9,
            57,
        ),
        ("Very low risk", "Marco Villa", None, "Phoenix", "Facial Plastic Surgeon", None, None),
    ]
    assert page.answers[0].text == (
        "Botox has not been studied in pregnancy, so we do not treat pregnant patients.\n"
        "A single treatment before you knew is very unlikely to harm the baby; tell your "
        "obstetrician."
    )
    for answer in page.answers:
        for bad in ("Upvote", "{{", "+3", "Helpful", "#realself", "IMPORTANT", "Ask a doctor"):
            assert bad not in answer.text


def test_json_ld_graph_with_author_as_text_and_a_rating():
    html = """<html><head><script type="application/ld+json">
    {"@context": "https://schema.org", "@graph": [
      {"@type": "WebSite", "name": "Example"},
      {"@type": ["Question"], "name": "Does filler hurt?", "text": "I am scared of needles.",
       "suggestedAnswer": [
         {"@type": "Answer", "text": "Most fillers contain lidocaine, so it stings only briefly.",
          "author": "Dr. Ann Lee, MD, FACS"},
         {"@type": "Answer", "text": "Numbing cream helps too.",
          "author": {"@type": "Person", "name": "Raj Patel", "honorificSuffix": "DO",
                     "aggregateRating": {"@type": "AggregateRating", "ratingValue": "4.7",
                                         "reviewCount": 31}}}]}]}
    </script></head><body><h1>Does filler hurt?</h1></body></html>"""
    page = parse_html(html.encode(), "graph")
    assert (page.title, page.body, page.declared_answers) == (
        "Does filler hurt?",
        "I am scared of needles.",
        None,
    )
    first, second = page.answers
    assert (first.doctor, first.credentials) == ("Ann Lee", "MD, FACS")
    assert (second.doctor, second.credentials, second.rating, second.review_count) == (
        "Raj Patel",
        "DO",
        4.7,
        31,
    )


def test_broken_json_ld_falls_back_to_the_page_text():
    html = """<html><head><script type="application/ld+json">{"@type": "QAPage", oops</script>
    </head><body><h1>Can I sleep on my face after Botox?</h1><p>I sleep on my side.</p>
    <h2>Doctor Answers 1</h2><h3>Sleep as usual</h3>
    <p>Sleeping on your side the first night will not move the Botox.</p>
    <p>Ruth Adams, MD</p><p>Austin Dermatologist</p></body></html>"""
    page = parse_html(html.encode(), "broken_ld")
    (answer,) = page.answers
    assert (answer.heading, answer.doctor, answer.location) == (
        "Sleep as usual",
        "Ruth Adams",
        "Austin",
    )
    assert answer.text == "Sleeping on your side the first night will not move the Botox."
