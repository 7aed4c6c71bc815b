"""Prompts and templates, as files in this package loaded by name.

`load_prompt("evidence/summary")` reads `prompts/evidence/summary.md` (model instructions);
`render(name, **ctx)` renders a Jinja2 template such as `templates/digest/digest.html.j2`
(documents and emails live under `prompts/templates/<document>/`). HTML templates are
autoescaped (titles and abstracts are untrusted), Markdown and text templates are not, and
an undefined variable is an error rather than an empty string. This package imports nothing
else of the project, so every layer may use it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

# The package directory itself: works for a source checkout and an installed wheel alike
# (package data is installed next to this file; zipped installs are not supported).
PROMPTS_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")
_HTML_SUFFIXES = (".html", ".htm", ".xml", ".html.j2", ".htm.j2", ".xml.j2")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


class PromptNotFound(LookupError):
    """No prompt or template by that name (or the name is not a plain relative name)."""

    def __init__(self, name: str, looked_for: str) -> None:
        super().__init__(f"no prompt named {name!r} (looked for prompts/{looked_for})")
        self.name = name


def _checked(name: str, looked_for: str) -> str:
    # Names are relative paths inside the package: no '..', no absolute paths, no backslashes.
    if not _NAME.match(name) or ".." in name:
        raise PromptNotFound(name, looked_for)
    return name


def load_prompt(name: str) -> str:
    """The text of `prompts/<name>.md`; PromptNotFound names what was looked for."""
    looked_for = f"{name}.md"
    _checked(name, looked_for)
    path = PROMPTS_DIR / looked_for
    if not path.is_file():
        raise PromptNotFound(name, looked_for)
    return path.read_text(encoding="utf-8")


def markdown_escape(value: object) -> str:
    """Backslash-escape Markdown syntax in untrusted text, so a title cannot become a link,
    a heading or raw HTML in a Markdown document."""
    return _MD_SPECIAL.sub(r"\\\1", str(value))


def _autoescape(template_name: str | None) -> bool:
    return bool(template_name) and str(template_name).lower().endswith(_HTML_SUFFIXES)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PROMPTS_DIR)),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown_escape
    return env


def render(template_name: str, **ctx: Any) -> str:
    """Render a template by its path under `prompts/` (e.g. `templates/digest/digest.md.j2`)."""
    _checked(template_name, template_name)
    try:
        template = environment().get_template(template_name)
    except jinja2.TemplateNotFound:
        raise PromptNotFound(template_name, template_name) from None
    return template.render(**ctx)
