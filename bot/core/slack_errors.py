"""Slack Web API error codes, translated into sentences a person in Slack can act on."""

from __future__ import annotations

from typing import Any

# Slack's "not now" answers, as opposed to "never": rate limits and Slack's own outages. A
# scheduled DM or digest refused with one is tried again by a later run instead of given up.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

CHANNEL_PROBLEMS: dict[str, str] = {
    "not_in_channel": "I'm not a member of that channel. Invite me with `/invite @alignbot`.",
    "channel_not_found": (
        "that channel doesn't exist any more or I can't see it (for a private channel, "
        "invite me with `/invite @alignbot`)."
    ),
    "is_archived": "that channel is archived. An admin should pick another in `/align settings`.",
    "restricted_action": "posting there is restricted by a workspace policy.",
    "method_not_supported_for_channel_type": (
        "it's a private channel. Invite me with `/invite @alignbot`."
    ),
    "ratelimited": "Slack is rate-limiting me right now. I'll catch up shortly.",
}


def describe_channel_problem(error_code: str) -> str:
    return CHANNEL_PROBLEMS.get(error_code, f"Slack said `{error_code}`.")


def error_code(error: Exception) -> str:
    """The code of a Slack API error (slack_sdk's SlackApiError): Slack's `error` field, or
    `http_503` and the like when an outage answered without one."""
    response: Any = getattr(error, "response", None)
    code = response.get("error") if response is not None else None
    if code:
        return str(code)
    status = int(getattr(response, "status_code", 0) or 0)
    return f"http_{status}" if status >= 500 else "unknown"


def is_transient(code: str) -> bool:
    return code in TRANSIENT_ERRORS or code.startswith("http_5")
