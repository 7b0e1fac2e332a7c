"""Slack's wire conventions: the test app's ids, signatures, and how bodies are encoded."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

SIGNING_SECRET = "test-signing-secret"
# The deprecated verification token Slack still puts in every payload; apps must not rely on it.
VERIFICATION_TOKEN = "fake-verification-token"
API_APP_ID = "A0ALIGNBOT"
TEAM_DOMAIN = "alignbot-test"
BOT_USER_ID = "UBOT"
# When a test does not say where `respond()` should go, point it at a closed localhost port:
# the app fails fast and loudly instead of reaching for hooks.slack.com.
UNSET_RESPONSE_URL = "http://127.0.0.1:9/response_url/unset"
# Slack's crawler identity; some frameworks log or branch on it.
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"

_counter = itertools.count(1)


def next_number() -> int:
    return next(_counter)


def dm_channel_id(user_id: str) -> str:
    """The bot's DM channel with `user_id`.

    Deterministic (and readable in failure output) so event payloads and the fake Web API agree
    without sharing state: ``U0REP`` -> ``DU0REP``.
    """
    return f"D{user_id}"


def now_ts() -> str:
    """A Slack-style ``seconds.micros`` timestamp string, unique within this process."""
    return f"{int(time.time())}.{next_number() % 1_000_000:06d}"


def new_trigger_id() -> str:
    """A fresh trigger id in Slack's ``<n>.<n>.<hex>`` shape (request.slash_command.form.txt)."""
    return f"{int(time.time() * 1000)}{next_number():03d}.47445629121.{secrets.token_hex(16)}"


def unset_response_url() -> str:
    """A unique placeholder response_url that fails fast if the app ever uses it."""
    return f"{UNSET_RESPONSE_URL}/{next_number()}"


def slack_json_dumps(value: Any) -> str:
    """JSON the way Slack's servers write it: compact, ASCII-only, with ``\\/`` escapes.

    Slack is a PHP/Hack shop and its JSON escapes forward slashes and non-ASCII characters
    (see error.chat.postMessage.invalid_blocks.json, "kept in Slack's wire form"). Parsers
    handle it; code that greps raw bodies for URLs does not, which is exactly what tests
    should catch. ``/`` only ever occurs inside JSON strings, so the replace is safe.
    """
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


# --------------------------------------------------------------------------- signing


def sign(
    body: bytes | str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Headers Slack sends with `body`: timestamp, ``v0=`` HMAC-SHA256 signature, content type.

    The signature covers ``v0:{timestamp}:{raw body}`` (request.signing_vector.json), so the
    body must be sent exactly as signed. `timestamp` defaults to now; pass an old one to test
    replay protection (Bolt rejects anything more than five minutes off).
    """
    raw = body.encode() if isinstance(body, str) else body
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), b"v0:%d:" % ts + raw, hashlib.sha256).hexdigest()
    content_type = (
        "application/json" if raw.lstrip()[:1] == b"{" else "application/x-www-form-urlencoded"
    )
    return {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": content_type,
    }


# --------------------------------------------------------------------------- bodies


def form_body(payload: Mapping[str, Any]) -> bytes:
    """Interactivity body: ``payload=`` + URL-encoded JSON of the payload.

    Encoded exactly like request.block_actions.form.txt / request.view_submission.form.txt
    (``json.dumps`` defaults, ``urllib.parse.quote`` with ``/`` left bare); a test asserts the
    samples round-trip byte for byte.
    """
    return ("payload=" + urllib.parse.quote(json.dumps(payload))).encode()


def json_body(payload: Mapping[str, Any]) -> bytes:
    """Events API body: the JSON document itself, in Slack's wire style (see slack_json_dumps)."""
    return slack_json_dumps(payload).encode()
