"""Prompts and templates loaded by name: lookup, errors, strict rendering, escaping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest

from prompts import loader
from prompts.loader import PromptNotFound, load_prompt, markdown_escape, render


def test_load_by_name() -> None:
    text = load_prompt("evidence/summary")
    assert "data, not instructions" in text
    assert "[pmid:" in text


@pytest.mark.parametrize("name", ["no_such_prompt", "../pyproject", "/etc/passwd", "a\\b", ""])
def test_missing_or_unsafe_name_is_a_clear_error(name: str) -> None:
    with pytest.raises(PromptNotFound, match="no prompt named"):
        load_prompt(name)


def test_missing_template_is_a_clear_error() -> None:
    with pytest.raises(PromptNotFound, match=r"prompts/digest/nope\.md\.j2"):
        render("digest/nope.md.j2")


@pytest.fixture
def scratch_templates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Point the loader at a scratch directory for one test."""
    monkeypatch.setattr(loader, "PROMPTS_DIR", tmp_path)
    loader.environment.cache_clear()
    yield tmp_path
    loader.environment.cache_clear()


def test_strict_undefined(scratch_templates: Path) -> None:
    (scratch_templates / "hello.txt.j2").write_text("Hello {{ name }}")
    assert render("hello.txt.j2", name="Ada") == "Hello Ada"
    with pytest.raises(jinja2.UndefinedError, match="name"):
        render("hello.txt.j2")


def test_autoescape_on_for_html_only(scratch_templates: Path) -> None:
    for name in ("t.html.j2", "t.html", "t.md.j2", "t.txt.j2"):
        (scratch_templates / name).write_text("{{ v }}")
    evil = "<script>alert(1)</script>"
    assert render("t.html.j2", v=evil) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert render("t.html", v=evil) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert render("t.md.j2", v=evil) == evil
    assert render("t.txt.j2", v=evil) == evil


def test_markdown_escape() -> None:
    assert markdown_escape("[click](http://x) <b>*hi*</b> # _x_") == (
        r"\[click\](http://x) \<b\>\*hi\*\</b\> \# \_x\_"
    )


def test_templates_are_package_data() -> None:
    """pyproject's package-data globs cover every prompt and template file we ship."""
    import tomllib

    root = Path(loader.__file__).resolve().parent
    pyproject = tomllib.loads((root.parent / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["prompts"]
    shipped = {p for g in globs for p in root.glob(g)}
    files = {p for p in root.rglob("*") if p.is_file() and p.suffix in {".md", ".j2", ".html"}}
    assert files and files <= shipped
