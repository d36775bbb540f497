"""A small element tree from :mod:`html.parser`, for tests that read the HTML winloss writes.

Attribute names come back lower-cased, as HTML parsers do (``viewBox`` is ``viewbox``).

Stricter than a browser on purpose: every non-void element must be closed by its own end tag, so
a template that leaves a tag open or closes the wrong one fails the test that parses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

#: Elements without an end tag (HTML's void elements).
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass
class Element:
    """An element: tag, attributes, children (elements and text, in document order)."""

    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Element | str] = field(default_factory=list)

    def iter(self, tag: str | None = None) -> Iterator[Element]:
        """This element and every descendant (depth first), optionally only those named ``tag``."""
        if tag is None or self.tag == tag:
            yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter(tag)

    def find_all(self, tag: str, **attrs: str) -> list[Element]:
        """Descendants named ``tag`` whose attributes include ``attrs`` (``data_chart`` is
        ``data-chart``)."""
        wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [
            e
            for e in self.iter(tag)
            if e is not self and all(e.attrs.get(k) == v for k, v in wanted.items())
        ]

    def find(self, tag: str, **attrs: str) -> Element:
        """The first descendant named ``tag`` with ``attrs``; AssertionError when there is none."""
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag}> with {attrs} under <{self.tag}>"
        return found[0]

    def children_named(self, tag: str) -> list[Element]:
        """Direct children named ``tag``."""
        return [c for c in self.children if isinstance(c, Element) and c.tag == tag]

    @property
    def text(self) -> str:
        """The text content, entities decoded, whitespace as written."""
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    @property
    def own_text(self) -> str:
        """The element's own text, without that of its child elements (an SVG ``<text>``'s
        label without its ``<title>``)."""
        return "".join(c for c in self.children if isinstance(c, str))


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document")
        self.stack = [self.root]
        self.doctype: str | None = None

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, dict(attrs)))  # <rect ... /> in SVG

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        open_tag = self.stack[-1].tag
        assert open_tag == tag, f"</{tag}> closes <{open_tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> tuple[Element, str | None]:
    """The document's root element (``#document``) and its doctype; asserts it is well formed."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    assert len(builder.stack) == 1, f"unclosed: {[e.tag for e in builder.stack[1:]]}"
    return builder.root, builder.doctype
