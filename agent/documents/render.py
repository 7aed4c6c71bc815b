"""Render: a verified document as Markdown and HTML (and plain text) from its templates.

The body is Markdown (verified sentence by sentence); HTML gets it through markdown-it with
raw HTML, links and images switched off, so neither a note nor a model can put markup,
scripts or links into the page; everything else is escaped by the template. Templates live
in prompts/templates/<document>/.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

from agent.documents.verify import dropped_summary
from prompts.loader import render

TEMPLATES = "templates"
_MD = MarkdownIt("commonmark", {"html": False}).disable(["link", "image", "autolink"])


@dataclass
class Rendered:
    markdown: str
    html: str


def template(document: str, name: str) -> str:
    """A template's name under prompts/: `template("digest", "digest.md.j2")`."""
    return f"{TEMPLATES}/{document}/{name}"


def html_fragment(markdown: str) -> str:
    """Verified Markdown as an HTML fragment to embed (a page, the morning email): raw HTML,
    links and images in quoted text stay inert."""
    return _MD.render(markdown)


def checker_line(kept: int, dropped: list[tuple[str, str]]) -> str:
    """'Checked against the records: 12 sentences kept. No sentence was removed.'"""
    return (
        f"Checked against the records: {kept} sentence{'s' if kept != 1 else ''} kept. "
        + dropped_summary(dropped)
    )


def render_document(document: str, name: str, *, body: str, **ctx: Any) -> Rendered:
    """`<document>/<name>.md.j2` and `.html.j2` with `ctx`; the HTML template gets the body
    as `body_html` too (markdown-it escapes every character of data it prints; nothing else
    is marked safe)."""
    markdown = render(template(document, f"{name}.md.j2"), body=body, **ctx).strip() + "\n"
    html = render(
        template(document, f"{name}.html.j2"),
        body=body,
        **ctx,
        body_html=Markup(html_fragment(body)),
    )
    return Rendered(markdown=markdown, html=html)
