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

import codecs
import re
from collections.abc import Iterator

from vectorstore.clean_text import one_line, plain_text, safe_url
from vectorstore.errors import InputFileError, PageFormatError
from vectorstore.page_parser import parse_page
from vectorstore.records import Answer, Page
from vectorstore.signatures import name_line

MAX_HTML_BYTES = 20 * 1024 * 1024
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_LATIN1 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "ascii", "us-ascii", "l1"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_BLOCK_TAGS = ("head", "p", "list", "item", "quote", "table", "row", "cell", "code")
_LEFT_OUT = (
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed", "form",
    "nav", "header", "footer", "aside", "button", "select", "textarea", "head",
)  # fmt: skip
_HIDDEN = (
    '//*[@hidden or @aria-hidden="true" or @role="navigation" or @role="banner" or '
    '@role="contentinfo" or @role="complementary" or contains(translate(@style, " ", ""), '
    '"display:none")]'
)
_HTML_BLOCKS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "blockquote", "pre", "td", "th",
    "div", "section", "article", "tr", "figcaption", "address", "ul", "ol", "dl", "table", "main",
}  # fmt: skip


def decode_html(data: bytes) -> str:
    """The page's text: BOM, else UTF-8, else its declared charset, else Windows-1252."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if m := _META_CHARSET.search(data[:4096]):
        declared = m.group(1).decode("ascii", "ignore").lower()
        declared = "cp1252" if declared in _LATIN1 else declared
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("cp1252")  # what a page mislabelled as UTF-8 most often is
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace")


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


def _page_url(root) -> str | None:
    """The canonical link, else og:url; only an http(s) URL is kept."""
    for xpath in ('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content'):
        for value in root.xpath(xpath):
            return safe_url(str(value))
    return None


def _title(root) -> str:
    for xpath in ("//h1", '//meta[@property="og:title"]/@content', "//title"):
        for value in root.xpath(xpath):
            text = one_line(value if isinstance(value, str) else value.text_content())
            if text:
                return text
    return ""


def _rendered_text(root) -> str:
    """The page's text as a browser shows it, one block per run of inline text between block
    elements, from the question's <h1> on."""
    from lxml import etree

    for el in [*root.iter(*_LEFT_OUT), *root.xpath(_HIDDEN)]:
        if el.getparent() is not None:
            el.drop_tree()
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    container = next(iter(root.xpath('//main|//*[@role="main"]')), None)
    h1 = next(iter(root.xpath("//h1")), None)
    if container is None or (h1 is not None and container not in h1.iterancestors()):
        container = root  # no <main>, or the question's title is outside it
    blocks: list[str] = []
    run: list[str] = []
    start = 0 if h1 is None else None

    def flush() -> None:
        lines = [" ".join(line.split()) for line in "".join(run).split("\n")]
        if text := "\n".join(line for line in lines if line):
            blocks.append(text)
        run.clear()

    for event, node in etree.iterwalk(container, events=("start", "end")):
        is_element = isinstance(node.tag, str)
        if event == "start":
            if (is_element and node.tag in _HTML_BLOCKS) or node is h1:
                flush()
            if node is h1:
                start = len(blocks)
            if is_element and node.text:
                run.append(node.text)
            continue
        if (is_element and node.tag in _HTML_BLOCKS) or node is h1:
            flush()
        if node.tail and node is not container:
            run.append(node.tail)
    flush()
    return "\n\n".join(blocks[start or 0 :])


def _main_text(html: str) -> str | None:
    """The page's main text, one block per paragraph or heading (trafilatura's XML output)."""
    import trafilatura
    from lxml import etree

    xml = trafilatura.extract(
        html,
        output_format="xml",
        include_comments=True,
        include_tables=False,
        include_images=False,
        include_links=False,
        favor_recall=True,
        deduplicate=False,
    )
    if not xml:
        return None
    root = etree.fromstring(xml.encode("utf-8"))
    blocks = [
        " ".join("".join(el.itertext()).split())
        for el in root.iter(*_BLOCK_TAGS)
        if not any(parent.tag in _BLOCK_TAGS for parent in el.iterancestors())
    ]
    return "\n\n".join(b for b in blocks if b)


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
    url = _page_url(root)
    found = extruct.extract(text, syntaxes=["json-ld", "microdata"], uniform=True, errors="ignore")
    questions = [node for node in _nodes(list(found.values())) if "Question" in _types(node)]
    pages = [p for q in questions if (p := _page_from_question(q, page_id, source, url))]
    if pages:
        return max(pages, key=lambda p: len(p.answers))
    title = _title(root)
    problem = "it has no text"
    for extract in (lambda: _rendered_text(root), lambda: _main_text(text)):
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
