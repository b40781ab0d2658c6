"""Small readers of IATI XML elements shared by the activity reader: text in every
language (1.x element text or 2.x ``<narrative>``), attributes, dates, percentages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from lxml import etree

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class FieldProblem(Exception):  # noqa: N818 - a signal caught by the activity reader
    """A problem with one element: where it is, what attribute, and the message."""

    def __init__(self, element: etree._Element, what: str, msg: str) -> None:
        super().__init__(msg)
        self.element = element
        self.what = what
        self.msg = msg


# -- small helpers ---------------------------------------------------------------
def line_of(el: etree._Element) -> int:
    """The line an element starts on (0 when unknown)."""
    value: Any = el.sourceline
    return int(value or 0)


def attr(el: etree._Element, name: str) -> str | None:
    """An attribute, stripped; ``None`` when absent or blank."""
    value = el.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def once(el: etree._Element, seen: set[str], why: str) -> None:
    """Refuse a second occurrence of an element that may appear once (which would win?)."""
    tag = str(el.tag)
    if tag in seen:
        raise FieldProblem(el, tag, f"<{tag}> appears twice: {why}")
    seen.add(tag)


def twice(el: etree._Element, why: str) -> None:
    """Refuse the second occurrence of an element that may appear once."""
    raise FieldProblem(el, str(el.tag), f"<{el.tag}> appears twice: {why}")


def required(el: etree._Element, name: str) -> str:
    """An attribute that must be there; :class:`FieldProblem` otherwise."""
    value = attr(el, name)
    if value is None:
        raise FieldProblem(el, name, f"<{el.tag}> has no {name}: add the {name} attribute")
    return value


def upper(value: str | None) -> str | None:
    """A code in upper case; ``None`` when blank."""
    value = (value or "").strip()
    return value.upper() or None


def boolean(value: str | None) -> bool | None:
    """An ``xsd:boolean`` (``1``/``true``/``0``/``false``); ``None`` otherwise."""
    if value is None:
        return None
    v = value.strip().lower()
    if v in ("1", "true"):
        return True
    if v in ("0", "false"):
        return False
    return None


def texts(el: etree._Element, lang: str | None) -> list[tuple[str | None, str]]:
    """Every (language, text) of an element: its ``<narrative>`` children (2.x), else
    its own text (1.x)."""
    out: list[tuple[str | None, str]] = []
    if not len(el):  # no children at all (most 1.x text): skip the search for narratives
        text = (el.text or "").strip()
        return [(el.get(XML_LANG) or lang, text)] if text else out
    found = False
    for n in el:  # a plain loop: iterchildren("narrative") costs more on 1-3 children
        if n.tag != "narrative":
            continue
        found = True
        text = (n.text or "").strip()
        if text:
            out.append((n.get(XML_LANG) or lang, text))
    if not found:
        text = (el.text or "").strip()
        if text:
            out.append((el.get(XML_LANG) or lang, text))
    return out


def first_text(el: etree._Element, lang: str | None) -> str:
    """The text in ``lang`` if there is one, else the first text, else ``""``."""
    found = texts(el, lang)
    if not found:
        return ""
    for t_lang, text in found:
        if t_lang == lang:
            return text
    return found[0][1]


def code_or_name(el: etree._Element, names: dict[str, str]) -> str:
    """The ``code`` attribute (or, in 1.x, the text) mapped through ``names``."""
    code = attr(el, "code")
    if code:
        return names.get(code.lower(), code)[:20]
    text = (el.text or "").strip().lower()
    return names.get(text, text)[:20]


def parse_date(value: str) -> date:
    """A ``YYYY-MM-DD`` date (a datetime's date part is enough)."""
    return date.fromisoformat(value[:10])


def date_attr(el: etree._Element, name: str, *, text_fallback: bool = False) -> date | None:
    """A date attribute (an error if malformed), or the element's text with
    ``text_fallback`` (ignored if it is not a date: 1.x text is often a label)."""
    value = (el.get(name) or "").strip()
    if not value and text_fallback:
        text = (el.text or "").strip()
        try:
            return parse_date(text) if text else None
        except ValueError:
            return None
    if not value:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise FieldProblem(el, name, f"{value[:40]!r} is not a date: write YYYY-MM-DD") from None


def percentage(el: etree._Element) -> float | None:
    """The ``percentage`` attribute, 0-100; ``None`` when absent."""
    raw = (el.get("percentage") or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except ArithmeticError:
        raise FieldProblem(el, "percentage", f"{raw[:20]!r} is not a number") from None
    if not value.is_finite() or value < 0 or value > 100:
        raise FieldProblem(el, "percentage", f"{raw[:20]} is not between 0 and 100")
    return float(value)
