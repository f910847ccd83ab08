"""An HTML page's text: its encoding, its text as a browser shows it, its main text (trafilatura),
its URL and its title. Used by vectorstore/html_page.py for pages without structured data."""

from __future__ import annotations

import codecs
import re

from vectorstore.clean_text import one_line, safe_url

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_LATIN1 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "ascii", "us-ascii", "l1"}
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


def page_url(root) -> str | None:
    """The canonical link, else og:url; only an http(s) URL is kept."""
    for xpath in ('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content'):
        for value in root.xpath(xpath):
            return safe_url(str(value))
    return None


def page_title(root) -> str:
    for xpath in ("//h1", '//meta[@property="og:title"]/@content', "//title"):
        for value in root.xpath(xpath):
            text = one_line(value if isinstance(value, str) else value.text_content())
            if text:
                return text
    return ""


def rendered_text(root) -> str:
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


def main_text(html: str) -> str | None:
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
