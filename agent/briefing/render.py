"""Render: the verified body with its header, checker line and sources, as Markdown and HTML.

The body is Markdown (verified sentence by sentence); HTML gets it through markdown-it with
raw HTML, links and images switched off, so neither a note nor a model can put markup,
scripts or links into the page; everything else is escaped by the template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

from agent.briefing.verify import dropped_summary
from prompts.loader import render
from tools.literature.verify import find_refs

_MD = MarkdownIt("commonmark", {"html": False}).disable(["link", "image", "autolink"])
_ANCHOR = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass
class Rendered:
    markdown: str
    html: str
    cited: list[str]  # references the body cites, in order of first appearance


def render_briefing(
    *,
    header: Mapping[str, Any],
    body: str,
    sources: Mapping[str, str],
    links: Mapping[str, str],
    kept: int,
    dropped: Sequence[tuple[str, str]],
    notes: Sequence[str],
    mode: str,
) -> Rendered:
    cited = find_refs(body)
    rows = [
        {
            "ref": ref,
            "label": sources.get(ref, ref.partition(":")[0]),
            "url": links.get(ref),
            "anchor": _ANCHOR.sub("-", ref),
        }
        for ref in cited
    ]
    composed_by = (
        "Composed by the language model from the records below."
        if mode == "model"
        else "Composed directly from the records below."
    )
    checker = (
        f"Checked against the records: {kept} sentence{'s' if kept != 1 else ''} kept. "
        + dropped_summary(dropped)
    )
    ctx = {
        "header": header,
        "notes": list(notes),
        "body": body,
        "composed_by": composed_by,
        "checker_line": checker,
        "source_rows": rows,
    }
    markdown = render("briefing/briefing.md.j2", **ctx).strip() + "\n"
    # markdown-it escapes every character of data it prints; nothing else is marked safe.
    html = render("briefing/briefing.html.j2", **ctx, body_html=Markup(_MD.render(body)))
    return Rendered(markdown=markdown, html=html, cited=cited)


def html_fragment(markdown: str) -> str:
    """A briefing's Markdown as an HTML fragment to embed (the morning email): the same
    renderer as the page, so raw HTML, links and images in quoted text stay inert."""
    return _MD.render(markdown)
