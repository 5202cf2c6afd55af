"""HTML text -> one lxml tree for the whole extraction, and the depth guard on that tree.

The page is parsed as trafilatura's ``load_html`` parses a string (same repairs, same parser
options, same fallbacks, built from its own helpers) with two differences: the UTF-8 bytes are
parsed first (cheaper, same tree: :func:`_from_utf8`), and the tree's element classes are
looked up in C. ``lxml.html``'s parser resolves the Python class of
every element proxy through a Python method (``HtmlElementClassLookup.lookup``), and every
walk over the tree (ours, and trafilatura's on the copies it makes of this tree) creates
proxies: about 4,500 calls a page, ~7 % of the extraction's CPU on the WCXB dev pages. A
namespace lookup with the same table (``form``, ``input``… their ``lxml.html`` classes,
``HtmlElement`` for every other element, ``HtmlComment`` & co.) gives every node the very
class ``lxml.html`` would, so no code downstream can tell the trees apart
(``tests/test_extract_parsing.py`` compares both parsers' trees and classes).
"""

from __future__ import annotations

from lxml import etree
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlElementClassLookup,
    HtmlEntity,
    HTMLParser,
    HtmlProcessingInstruction,
    fromstring,
)
from trafilatura.utils import is_dubious_html, repair_faulty_html

MAX_HTML_CHARS = 8_000_000
#: Elements nested deeper than this make a page pathological: real pages stay under ~60, and
#: libxml2 silently drops everything below depth 255, which once stored a byline as the text.
MAX_DEPTH = 200
TOO_DEEP = "too_deep"


def _c_lookup() -> etree.ElementNamespaceClassLookup:
    """``lxml.html``'s element classes as a lookup table resolved in C (see the module docstring)."""
    fallback = etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
    )
    lookup = etree.ElementNamespaceClassLookup(fallback)
    classes = lookup.get_namespace(None)  # this lookup's own registry, not lxml's global one
    for name, cls in HtmlElementClassLookup._default_element_classes.items():
        classes[name] = cls
    return lookup


def html_parser() -> HTMLParser:
    """A parser with trafilatura's options (``trafilatura.utils.HTML_PARSER``) and the C lookup."""
    parser = HTMLParser(
        collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
    )
    parser.set_element_class_lookup(_c_lookup())
    return parser


PARSER = html_parser()


def _from_bytes(html: str) -> HtmlElement | None:
    try:
        tree = fromstring(html.encode("utf8", "surrogatepass"), parser=PARSER)
    except Exception:
        return None
    return tree if isinstance(tree, HtmlElement) else None


def _from_utf8(html: str) -> HtmlElement | None:
    """The page parsed from its UTF-8 bytes; None when that fails or finds no element.

    libxml2 reads a Python string in the string's own storage width (Latin-1, UTF-16 or
    UCS-4) through a converter, and UTF-8 bytes natively: on the WCXB dev pages the same
    parse costs a third less CPU from bytes (1.22 s against 1.91 s for the 900 pages,
    encoding included), ~1.4 % of the extraction, with identical trees on every page. The
    parser's encoding is fixed (UTF-8), so a page's own charset declaration is ignored
    either way. A string with lone surrogates does not encode and takes the string path.
    """
    try:
        data = html.encode("utf8")
    except UnicodeEncodeError:
        return None
    try:
        tree = fromstring(data, parser=PARSER)
    except Exception:
        return None
    return tree if isinstance(tree, HtmlElement) and len(tree) >= 1 else None


def load_tree(html: str) -> HtmlElement | None:
    """``trafilatura.utils.load_html`` for a string, step for step, with :data:`PARSER`.

    One difference in the order: the UTF-8 bytes are parsed first (:func:`_from_utf8`,
    cheaper); only when that yields nothing are trafilatura's string-then-bytes steps run.
    """
    beginning = html[:50].lower()
    dubious = is_dubious_html(beginning)
    html = repair_faulty_html(html, beginning)
    tree: HtmlElement | None = _from_utf8(html)
    if tree is not None:
        return None if dubious and len(tree) < 2 else tree
    from_bytes = False
    try:
        tree = fromstring(html, parser=PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported."
        tree, from_bytes = _from_bytes(html), True
    except Exception:
        tree = None
    if (tree is None or len(tree) < 1) and not from_bytes:
        tree = _from_bytes(html)
    if tree is not None and dubious and len(tree) < 2:
        return None
    return tree


def parse_html(html: str) -> HtmlElement | None:
    """The page's tree (at most :data:`MAX_HTML_CHARS` of it), or None when there is no HTML."""
    if not html or not html.strip():
        return None
    try:
        tree = load_tree(html[:MAX_HTML_CHARS])
    except Exception:
        return None
    return tree if isinstance(tree, HtmlElement) else None


def nesting_depth(tree: HtmlElement, limit: int = MAX_DEPTH) -> int:
    """The tree's depth, counted up to ``limit`` (an iterative walk, linear in the elements)."""
    stack = [(tree, 1)]
    deepest = 0
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest >= limit:
            return deepest
        stack.extend((child, depth + 1) for child in element)
    return deepest


def too_deep(tree: HtmlElement, limit: int = MAX_DEPTH) -> bool:
    """Whether any node sits ``limit`` or more levels deep (``nesting_depth(tree) >= limit``).

    One XPath of ``limit`` child steps, evaluated in C: each step's node set holds one depth
    level, so the cost is linear in the elements without a Python visit per element.
    """
    if limit <= 1:
        return True
    root = tree.getroottree().getroot()
    path = "/*" * (limit - 1) + "/node()[not(self::text())]"
    return bool(root.xpath(f"boolean({path})")) if root is tree else nesting_depth(tree, limit) >= limit
