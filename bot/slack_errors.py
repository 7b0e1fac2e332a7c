"""Slack Web API error codes, translated into sentences a person in Slack can act on."""

from __future__ import annotations

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
