"""Read a saved HTML Q&A page into a Page: schema.org QAPage data first, main text second.

1. schema.org `QAPage` / `Question` / `Answer` data in JSON-LD or microdata (extruct): the
   question's name and text, each answer's text, author (name, credentials, job title, city,
   URL), upvotes and date.
2. A page without that data: its text as a browser shows it, from the question's `<h1>` on,
   one block per paragraph, heading or list item, with scripts, navigation, headers, footers,
   asides and forms left out, read by the text parser (which knows the site furniture). If that
   is no Q&A page, the main text that trafilatura finds is tried the same way.
Everything stored is plain text (vectorstore/clean_text.py) and every URL is http(s) or nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from vectorstore.clean_text import one_line, plain_text, safe_url
from vectorstore.errors import InputFileError, PageFormatError
from vectorstore.html_text import decode_html, main_text, page_title, page_url, rendered_text
from vectorstore.page_parser import parse_page
from vectorstore.records import Answer, Page
from vectorstore.signatures import name_line

MAX_HTML_BYTES = 20 * 1024 * 1024
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _types(node: dict) -> set[str]:
    kind = node.get("@type") or node.get("type") or ()
    kinds = [kind] if isinstance(kind, str) else list(kind)
    return {str(k).rsplit("/", 1)[-1] for k in kinds}


def _nodes(value) -> Iterator[dict]:
    """Every dict inside extruct's output, depth first."""
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from _nodes(child)


def _listed(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _first(value) -> str | None:
    """A property's first value as a string (extruct gives strings, lists or nested items)."""
    for item in _listed(value):
        if isinstance(item, dict):
            item = item.get("name") or item.get("@id") or item.get("url")
        if item is not None and str(item).strip():
            return str(item)
    return None


def _block_text(value) -> str:
    """An answer's text (HTML or plain): paragraphs kept, every tag and script removed."""
    raw = _first(value) or ""
    if "<" not in raw:
        return plain_text(raw).strip()
    from lxml import html as lxml_html

    root = lxml_html.fragment_fromstring(raw, create_parent="div")
    for bad in root.xpath(
        "//script|//style|//svg|//math|//iframe|//noscript|//template|//object|//embed"
    ):
        bad.drop_tree()
    for br in root.xpath("//br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.xpath("//p|//div|//li|//h1|//h2|//h3|//h4|//h5|//h6|//blockquote"):
        block.tail = "\n\n" + (block.tail or "")
        block.text = "\n\n" + (block.text or "")
    text = plain_text(root.text_content())
    paragraphs = [
        "\n".join(ln.strip() for ln in p.split("\n") if ln.strip()) for p in text.split("\n\n")
    ]
    return "\n\n".join(p for p in paragraphs if p)


def _int(value) -> int | None:
    text = _first(value)
    try:
        return int(float(text)) if text is not None else None
    except ValueError:
        return None


def _date(node: dict) -> str | None:
    for key in ("dateCreated", "datePublished", "dateModified"):
        text = _first(node.get(key))
        if text and _DATE.match(text.strip()):
            return text.strip()[:10]
    return None


def _author(node: dict) -> dict:
    """Name, credentials, city, specialty, URL and rating of an answer's author."""
    author = next(iter(_listed(node.get("author"))), None)
    if author is None:
        return {}
    if not isinstance(author, dict):
        author = {"name": author}
    name = one_line(_first(author.get("name")) or "")
    name = re.sub(r"^Dr\.?\s+", "", name)
    credentials = one_line(_first(author.get("honorificSuffix")) or "") or None
    if (split := name_line(name)) is not None and split[1]:
        name, credentials = split[0], credentials or split[1]
    address = next(iter(_listed(author.get("address"))), None)
    city = address.get("addressLocality") if isinstance(address, dict) else address
    rating = next(iter(_listed(author.get("aggregateRating"))), None)
    rating = rating if isinstance(rating, dict) else {}
    score = _first(rating.get("ratingValue"))
    specialty = _first(author.get("jobTitle")) or _first(author.get("medicalSpecialty"))
    return {
        "doctor": name or None,
        "credentials": credentials,
        "location": one_line(_first(city) or "") or None,
        "specialty": one_line(specialty or "") or None,
        "author_url": safe_url(_first(author.get("url"))),
        "rating": float(score) if score and re.fullmatch(r"\d+(?:\.\d+)?", score) else None,
        "review_count": _int(rating.get("reviewCount") or rating.get("ratingCount")),
    }


def _page_from_question(question: dict, page_id: str, source: str, url: str | None) -> Page | None:
    answers: list[Answer] = []
    for node in [
        *_listed(question.get("acceptedAnswer")),
        *_listed(question.get("suggestedAnswer")),
    ]:
        if not isinstance(node, dict):
            continue
        text = _block_text(node.get("text"))
        if not text:
            continue
        author = _author(node)
        answers.append(
            Answer(
                page_id=page_id,
                index=len(answers),
                text=text,
                url=safe_url(_first(node.get("url"))) or url,
                date=_date(node),
                upvotes=_int(node.get("upvoteCount")),
                signed=bool(author.get("doctor")),
                **author,
            )
        )
    title = one_line(_first(question.get("name")) or "")
    if not answers or not title:
        return None
    return Page(
        id=page_id,
        title=title,
        body=_block_text(question.get("text")),
        declared_answers=_int(question.get("answerCount")),
        answers=tuple(answers),
        source=source,
        url=url,
    )


def parse_html(data: bytes, page_id: str, source: str = "") -> Page:
    """Parse a saved HTML page; raise InputFileError naming the file if it is no Q&A page."""
    import extruct
    from lxml import html as lxml_html

    where = source or page_id
    if len(data) > MAX_HTML_BYTES:
        raise InputFileError(
            f"{where}: the page is too large ({len(data) // (1024 * 1024)} MiB; at most "
            f"{MAX_HTML_BYTES // (1024 * 1024)} MiB is read)"
        )
    text = decode_html(data)
    if not text.strip():
        raise InputFileError(f"{where}: the file is empty; add a Q&A page or remove the file")
    root = lxml_html.document_fromstring(text)
    url = page_url(root)
    found = extruct.extract(text, syntaxes=["json-ld", "microdata"], uniform=True, errors="ignore")
    questions = [node for node in _nodes(list(found.values())) if "Question" in _types(node)]
    pages = [p for q in questions if (p := _page_from_question(q, page_id, source, url))]
    if pages:
        return max(pages, key=lambda p: len(p.answers))
    title = page_title(root)
    problem = "it has no text"
    for extract in (lambda: rendered_text(root), lambda: main_text(text)):
        main = extract()
        if not main:
            continue
        if title and not main.startswith(title):
            main = f"{title}\n\n{main}"
        try:
            return parse_page(main, page_id, source, url=url)
        except PageFormatError as err:
            problem = str(err).removeprefix(f"{where}: ")
    raise InputFileError(
        f"{where}: no schema.org QAPage data was found, and the page's text is not a Q&A page "
        f"either ({problem})"
    )
