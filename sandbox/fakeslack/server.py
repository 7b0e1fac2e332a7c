"""The HTTP server: routing, Slack's request parsing and auth, dispatch to the API families."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable

from aiohttp import web

from sandbox.fakeslack.blockkit import json_pointer, validate_blocks
from sandbox.fakeslack.calls import JSON, Call, SlackError
from sandbox.fakeslack.chat import ChatAPI
from sandbox.fakeslack.conversations import ConversationsAPI
from sandbox.fakeslack.faults import Faults
from sandbox.fakeslack.files import FilesAPI
from sandbox.fakeslack.oauth import AuthAPI
from sandbox.fakeslack.recording import CallLog
from sandbox.fakeslack.state import error_messages
from sandbox.fakeslack.users import UsersAPI
from sandbox.fakeslack.views import ViewsAPI
from sandbox.slack_payloads import dm_channel_id, slack_json_dumps

# Fields Slack accepts as JSON-encoded strings in form bodies, and the error it gives when the
# string is not valid JSON.
_JSON_STRING_FIELDS = {
    "blocks": "invalid_blocks_format",
    "attachments": "invalid_attachments",
    "view": "invalid_arguments",
    "files": "invalid_arguments",
    "metadata": "invalid_metadata_format",
}


class FakeSlack(ChatAPI, ConversationsAPI, UsersAPI, ViewsAPI, FilesAPI, AuthAPI, Faults, CallLog):
    """The fake Slack: workspace state, Web API handlers, fault injection, call log.

    Runs an aiohttp server on 127.0.0.1 (free port) in the current event loop. Point an
    ``AsyncWebClient(token=fake.bot_token, base_url=fake.url)`` at it. All state is plain
    attributes so tests can set up and inspect it directly.
    """

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",
        team_id: str = "T0TEAM",
        bot_user_id: str = "UBOT",
    ) -> None:
        super().__init__(bot_token=bot_token, team_id=team_id, bot_user_id=bot_user_id)
        self._runner: web.AppRunner | None = None

        self._methods: dict[str, Callable[[JSON], JSON]] = {
            "auth.test": self._auth_test,
            "auth.teams.list": self._auth_teams_list,
            "oauth.v2.access": self._oauth_v2_access,
            "team.info": self._team_info,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.delete": self._chat_delete,
            "conversations.join": self._conversations_join,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.list": self._conversations_list,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.lookupByEmail": self._users_lookup_by_email,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start serving on 127.0.0.1 on a free port (read back into `url`)."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response_url/{name:.*}", self._handle_response_url)
        app.router.add_post("/upload/v1/{token}", self._handle_upload)
        app.router.add_get("/files-pri/{file_ref}/download/{name}", self._handle_download)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self._runner = runner
        self._origin = f"http://{host}:{port}"
        self._cond = asyncio.Condition()  # bound to the loop the server runs in

    async def stop(self) -> None:
        """Stop the server and close its connections."""
        for hold in self._holds.values():
            hold.release()  # a test that failed mid-race must not leave a call hanging
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def response_url(self, name: str = "x") -> str:
        """A response_url on this server; POSTs to it are recorded as method ``response_url``."""
        return f"{self.origin}/response_url/{name}"

    def dm_channel_id(self, user_id: str) -> str:
        """The bot's DM channel id with `user_id` (same rule as slack_payloads.dm_channel_id)."""
        return dm_channel_id(user_id)

    # ------------------------------------------------------------------ HTTP plumbing

    async def _read_params(
        self, request: web.Request
    ) -> tuple[JSON, str | None, SlackError | None]:
        """Merge query string + form/JSON body like Slack; returns (params, token, error)."""
        params: JSON = dict(request.query)
        token: str | None = params.get("token")
        error: SlackError | None = None
        if request.method == "POST" and request.can_read_body:
            content_type = request.content_type
            if content_type == "application/json":
                raw = await request.read()
                try:
                    body = json.loads(raw) if raw.strip() else {}
                except ValueError:
                    body = None
                if isinstance(body, dict):
                    params.update(body)  # a "token" in a JSON body is not honoured by Slack
                else:
                    error = SlackError("invalid_json")
            elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        params[key] = value.file.read()
                    else:
                        params[key] = value
                if "token" in form:
                    token = str(form["token"])
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer ") :].strip()
        elif auth.startswith("Basic "):  # oauth.v2.access: client id and secret
            decoded = base64.b64decode(auth[len("Basic ") :].strip()).decode(errors="replace")
            client_id, _, client_secret = decoded.partition(":")
            params.setdefault("client_id", client_id)
            params.setdefault("client_secret", client_secret)
        for key, err in _JSON_STRING_FIELDS.items():
            encoded = params.get(key)
            if isinstance(encoded, str):
                try:
                    params[key] = json.loads(encoded) if encoded.strip() else None
                except ValueError:
                    if error is None:
                        extra = error_messages(f"[ERROR] invalid JSON {json_pointer('/' + key)}")
                        error = SlackError(err, extra=extra if err == "invalid_arguments" else {})
        return params, token, error

    def _json_response(
        self, status: int, body: JSON, headers: dict[str, str] | None = None
    ) -> web.Response:
        return web.Response(
            text=slack_json_dumps(body),
            status=status,
            content_type="application/json",
            charset="utf-8",
            headers=headers,
        )

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, token, body_error = await self._read_params(request)
        headers = dict(request.headers)
        status, body, extra_headers = self._dispatch(method, params, token, body_error)
        gate = self._holds.get(method)
        if gate is not None and gate.remaining > 0:
            gate.remaining -= 1
            await gate._wait()
        await self._record(Call(method, params, headers, status, body, token=token or ""))
        return self._json_response(status, body, extra_headers)

    def _dispatch(
        self, method: str, params: JSON, token: str | None, body_error: SlackError | None
    ) -> tuple[int, JSON, dict[str, str]]:
        handler = self._methods.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        if method == "oauth.v2.access":
            token = "oauth"  # authenticated by client id and secret, not by a token
        elif not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        elif token in self.revoked_tokens:
            return 200, {"ok": False, "error": "token_revoked"}, {}
        elif token not in self.tokens:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        elif self.token_expired(token):
            return 200, {"ok": False, "error": "token_expired"}, {}
        self._current_token = token
        retry_after = self._check_rate_limit(method)
        if retry_after is not None:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
        failures = self._failures.get(method)
        if failures:
            failure = failures.popleft()
            return failure.status, failure.body(), {}
        if body_error is not None:
            return body_error.status, body_error.body(), {}
        try:
            answer = {"ok": True, **handler(params)}
        except SlackError as exc:
            return exc.status, exc.body(), {}
        if self._lost_answers.get(method):
            self._lost_answers[method] -= 1
            return 500, {"ok": False, "error": "internal_error"}, {}
        return 200, answer, {}

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        """Slack's response_url endpoint: answers text ``ok`` (or a bare error text)."""
        name = request.match_info["name"]
        raw = await request.read()
        params: JSON
        try:
            parsed = json.loads(raw) if raw.strip() else {}
            params = parsed if isinstance(parsed, dict) else {"_body": parsed}
        except ValueError:
            form = await request.post()
            payload = form.get("payload")
            params = json.loads(str(payload)) if payload else {k: str(v) for k, v in form.items()}
        status, text = 200, "ok"
        failures = self._failures.get("response_url")
        if failures:
            failure = failures.popleft()
            status, text = failure.status, failure.error
        elif "blocks" in params and validate_blocks(params["blocks"], "message"):
            status, text = 400, "invalid_blocks"
        elif not (
            params.get("text")
            or params.get("blocks")
            or params.get("attachments")
            or params.get("delete_original")
        ):
            status, text = 400, "no_text"
        response: JSON = {"ok": True} if text == "ok" else {"ok": False, "error": text}
        await self._record(
            Call("response_url", params, dict(request.headers), status, response, path=name)
        )
        return web.Response(text=text, status=status, content_type="text/html")
