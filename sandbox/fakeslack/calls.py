"""What the fake received and what it answered: `Call`, and `SlackError` to answer an error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]


@dataclass
class Call:
    """One request the fake received, with what it answered.

    `params` merges query string, form and JSON body (JSON-string fields such as ``blocks``
    already decoded); `headers` are as the client sent them (original case). `path` is only
    set for non-Web-API endpoints (the ``name`` part of a response_url).
    """

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int
    response: dict[str, Any]
    path: str = ""
    token: str = ""  # the token it was made with: which workspace's install spoke

    @property
    def ok(self) -> bool:
        """Whether Slack would have reported success (``"ok": true``)."""
        return bool(self.response.get("ok"))


class SlackError(Exception):
    """Raised inside a handler to answer ``{"ok": false, "error": error, **extra}``."""

    def __init__(self, error: str, *, status: int = 200, extra: JSON | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra or {}

    def body(self) -> JSON:
        """The JSON body Slack would send for this error."""
        return {"ok": False, "error": self.error, **self.extra}


def summarise(call: Call) -> str:
    keys = ("channel", "user", "users", "user_id", "ts", "thread_ts", "view_id", "trigger_id")
    shown = {k: call.params[k] for k in keys if k in call.params}
    text = call.params.get("text")
    if isinstance(text, str):
        shown["text"] = text if len(text) <= 60 else text[:57] + "..."
    if "blocks" in call.params:
        blocks = call.params["blocks"]
        shown["blocks"] = f"<{len(blocks) if isinstance(blocks, list) else '?'} blocks>"
    outcome = "ok" if call.ok else f"error={call.response.get('error')}"
    return f"{call.method} -> {call.status} {outcome} {shown}"
