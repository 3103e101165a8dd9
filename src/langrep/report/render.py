"""Rendering a :class:`~langrep.report.build.Document` with its Jinja2 templates
(``templates/report.html.j2``: self-contained, figures embedded; ``templates/report.md.j2``:
figures linked). The templates lay out; they decide nothing."""

from __future__ import annotations

import base64
import html as _html
import json
import re
from pathlib import Path

import yaml
from markupsafe import Markup

_CODE = re.compile(r"`([^`]+)`")
_EMPH = re.compile(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])")


def _b64(path) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode()


def _inline_html(text) -> str:
    """Escaped text with `code` and *emphasis* marked up (the Markdown the statements use)."""
    out = _CODE.sub(r"<code>\1</code>", _html.escape(str(text), quote=False))
    return _EMPH.sub(r"<i>\1</i>", out)


def _is_number(text) -> bool:
    try:
        float(str(text).replace(",", ""))
    except ValueError:
        return False
    return True


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _env():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("langrep.report", "templates"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=jinja2.select_autoescape(["html.j2"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(b64=_b64, md_cell=_md_cell, inline=lambda t: Markup(_inline_html(t)))
    env.tests["number"] = _is_number
    return env


def _context(doc) -> dict:
    return {
        "doc": doc,
        "config_yaml": yaml.safe_dump(dict(doc.config), sort_keys=False, allow_unicode=True),
        "provenance_json": json.dumps(doc.provenance or {}, indent=1, default=str),
    }


def html(doc) -> str:
    """The report document rendered as HTML."""
    return _env().get_template("report.html.j2").render(**_context(doc))


def markdown(doc) -> str:
    """The report document rendered as Markdown."""
    return _env().get_template("report.md.j2").render(**_context(doc))
