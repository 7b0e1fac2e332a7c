"""A fake Slack Web API server that speaks HTTP the way Slack does.

Where things live: `server` (HTTP, parsing, auth, dispatch), `state` (the workspace and shared
lookups), `recording` (the call log, `wait_for`, `assert_no_call`), `faults` (errors, rate
limits, holds), one module per Web API family (`chat`, `conversations`, `users`, `views`,
`files`, `oauth`), and `blockkit` (Slack's Block Kit limits).

Why a real HTTP server instead of mocking ``AsyncWebClient``: the bot's correctness depends on
what happens *on the wire* — form vs JSON encoding, JSON-encoded ``blocks``/``view`` fields,
``Authorization`` headers, HTTP 429 + ``Retry-After`` handled by slack_sdk's retry handlers,
``files_upload_v2``'s three-step dance, Block Kit limits Slack enforces server-side. A mock
of the client would agree with whatever the bot sends; this server answers like Slack, with
Slack's response shapes and error codes (modelled on ``tests/fixtures/slack/samples``), so
tests catch what production would catch.

Usage::

    async with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.url)
        fake.add_user("U0REP")
        await client.chat_postMessage(channel="U0REP", text="hi")
        (call,) = await fake.wait_for("chat.postMessage")

Notes on deliberate Slack fidelity (things that surprise people):

* HTTP 200 for every Web API error, ``{"ok": false, "error": ...}``; only rate limits are 429.
* JSON bodies must carry the token in ``Authorization`` (a ``token`` field in JSON is ignored).
* Posting to a public channel the bot is not in gives ``not_in_channel``; a private one is
  invisible (``channel_not_found``). Posting to a deactivated user still succeeds, as in Slack
  (python-slack-sdk#1156), so the bot has to check ``deleted`` itself.
* Blocks without a ``block_id`` get a random one, like Slack does; trigger ids are single use.
* ``files.completeUploadExternal`` answers before the file is shared (``shares`` empty), as
  Slack shares asynchronously; the message with the file is visible in ``messages`` at once.
* The bot user itself is part of ``users.list`` (``is_bot: true``), as in Slack.
* ``chat.update``/``chat.delete`` need the conversation id (``D…`` for DMs), not a user id.

Beyond the agreed API (all additive): ``Call.path`` and ``Call.ok``; ``origin``,
``dm_channel_id()``; state dicts ``users``, ``channels``, ``usergroups``, ``files`` and
``ephemerals`` (postEphemeral log); ``add_channel(members=...)``; ``validate_view()``;
``enforce_rate_limits({"*": n})`` as a default; extra methods ``conversations.list``,
``conversations.history``, ``conversations.replies``, ``users.lookupByEmail``, ``team.info``;
``hold(method)`` keeps answers waiting until the test releases them (ordering races).
Besides Web API methods, ``calls`` also records POSTs to a response_url (method
``"response_url"``, ``path`` = the name) and the raw upload of files_upload_v2 (method
``"file_upload"``, params ``file_id``/``size``).
"""

from sandbox.fakeslack.blockkit import Surface, validate_blocks, validate_view
from sandbox.fakeslack.calls import Call, SlackError
from sandbox.fakeslack.faults import Hold
from sandbox.fakeslack.server import FakeSlack

__all__ = [
    "Call",
    "FakeSlack",
    "Hold",
    "SlackError",
    "Surface",
    "validate_blocks",
    "validate_view",
]
