"""Slack mrkdwn and Block Kit, rendered for a terminal (`alignbot demo`, `digest`, `scorecard`).

What Slack would draw, in text a person reads at a prompt: `*bold*` becomes bold through ANSI
codes when the output is a terminal and plain text when it is not (a file, a pipe, a test), so
no asterisks are ever shown; `_italic_` the same with ANSI italics; `~strike~` and `` `code` ``
plain (Slack draws them without their markers). Slack's
special forms become what Slack would show: ``<!date^…|fallback>`` its fallback date,
``<@U…>`` ``@U…``, ``<#C…|name>`` ``#name``, ``<!subteam^S…|@x>``
``@x``, ``<!here>`` ``@here``, ``<url|label>`` ``label (url)``; ``&lt;`` ``&gt;`` ``&amp;``
are unescaped last, so text a person typed cannot pose as one of these forms.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

BOLD = "\x1b[1m"
ITALIC = "\x1b[3m"
RESET = "\x1b[0m"

# Slack's rule: the markers sit at word boundaries, and the marked text neither starts nor ends
# with a space (`2 * 3 * 4` stays as typed, `snake_case_name` is not italic).
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])")
_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_ANGLE = re.compile(r"<([^<>\n]+)>")


def _special(inner: str) -> str:
    """What Slack shows for one ``<…>`` form."""
    target, _, label = inner.partition("|")
    if target.startswith("!date^"):
        return label or target.split("^")[1]
    if target.startswith("@"):
        return f"@{label or target[1:]}"
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!subteam^"):
        return label or f"@{target.split('^')[1]}"
    if target.startswith("!"):
        return label or f"@{target[1:]}"
    return f"{label} ({target})" if label and label != target else target


def mrkdwn_to_terminal(text: str, *, ansi: bool) -> str:
    """`text` (Slack mrkdwn) as a terminal shows it; `ansi` when writing to a terminal."""
    rendered = _ANGLE.sub(lambda match: _special(match.group(1)), text)
    bold, italic, reset = (BOLD, ITALIC, RESET) if ansi else ("", "", "")
    rendered = _BOLD.sub(lambda match: f"{bold}{match.group(1)}{reset}", rendered)
    rendered = _ITALIC.sub(lambda match: f"{italic}{match.group(1)}{reset}", rendered)
    rendered = _STRIKE.sub(lambda match: match.group(1), rendered)
    rendered = _CODE.sub(lambda match: match.group(1), rendered)
    return rendered.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def blocks_to_terminal(blocks: Sequence[Mapping[str, Any]], *, ansi: bool) -> str:
    """Block Kit blocks (a digest, say) as terminal text: headers bold and framed, section text
    and fields, context lines indented, dividers as a rule; mrkdwn rendered as above."""
    out: list[str] = []

    def shown(part: Mapping[str, Any]) -> str:
        text = str(part.get("text", ""))
        if part.get("type") == "plain_text":
            return text
        return mrkdwn_to_terminal(text, ansi=ansi)

    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = str(block["text"].get("text", ""))
            out.append(f"\n== {BOLD}{title}{RESET} ==" if ansi else f"\n== {title} ==")
        elif kind == "section":
            if "text" in block:
                out.append(shown(block["text"]))
            for field in block.get("fields", []):
                out.append("  " + shown(field).replace("\n", ": ", 1))
        elif kind == "context":
            out.append("  " + " ".join(shown(element) for element in block.get("elements", [])))
        elif kind == "divider":
            out.append("-" * 40)
    return "\n".join(out)
