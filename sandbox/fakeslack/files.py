"""files.*: the three-step files_upload_v2 dance, and files people share with the bot."""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

from aiohttp import web

from sandbox.fakeslack.blockkit import missing_field
from sandbox.fakeslack.calls import JSON, Call, SlackError
from sandbox.fakeslack.recording import CallLog
from sandbox.fakeslack.state import (
    PERMALINK_HOST,
    error_messages,
    id_list,
    param_int,
    param_str,
)


class FilesAPI(CallLog):
    """files.* methods and the upload/download endpoints beside the Web API."""

    def add_user_file(
        self, file_id: str, name: str, content: bytes, *, user: str
    ) -> dict[str, Any]:
        """A file a person shared (e.g. a CRM export DMed to the bot), as Slack describes it in
        `message` events; `url_private_download` serves the bytes to the bot's token only."""
        self.uploads[file_id] = content
        return {
            "id": file_id,
            "name": name,
            "title": name,
            "filetype": name.rsplit(".", 1)[-1].lower(),
            "size": len(content),
            "user": user,
            "mode": "hosted",
            "url_private": f"{self._origin}/files-pri/{self.team_id}-{file_id}/{name}",
            "url_private_download": f"{self._origin}/files-pri/{self.team_id}-{file_id}/download/{name}",
        }

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        file_id = request.match_info["file_ref"].split("-", 1)[-1]
        call = Call("file_download", {"file": file_id}, dict(request.headers), 200, {})
        self.calls.append(call)
        if auth != f"Bearer {self.bot_token}":
            # Slack answers an unauthenticated download with its sign-in page, not the file.
            return web.Response(status=302, headers={"Location": "https://fake.slack.test/signin"})
        if file_id not in self.uploads:
            return web.Response(status=404, text="not found")
        return web.Response(body=self.uploads[file_id], content_type="application/octet-stream")

    async def _handle_upload(self, request: web.Request) -> web.Response:
        """The ``upload_url`` from files.getUploadURLExternal: accepts the raw bytes."""
        file_id = self._pending_uploads.get(request.match_info["token"])
        if file_id is None:
            return web.Response(text="not_found", status=404, content_type="text/plain")
        if request.content_type == "multipart/form-data":
            form = await request.post()
            field_value = form.get("file") or next(iter(form.values()), b"")
            if isinstance(field_value, web.FileField):
                data = field_value.file.read()
            else:
                data = str(field_value).encode()
        else:
            data = await request.read()
        self.uploads[file_id] = data
        del self._pending_uploads[request.match_info["token"]]
        await self._record(
            Call(
                "file_upload",
                {"file_id": file_id, "size": len(data)},
                dict(request.headers),
                200,
                {"ok": True},
                path=request.path,
            )
        )
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    def _files_get_upload_url(self, params: JSON) -> JSON:
        filename = param_str(params, "filename")
        if not filename:
            raise SlackError(
                "invalid_arguments",
                extra=error_messages(f"[ERROR] {missing_field('', 'filename')}"),
            )
        length = param_int(params, "length", -1)
        if length < 0:
            raise SlackError(
                "invalid_arguments", extra=error_messages(f"[ERROR] {missing_field('', 'length')}")
            )
        file_id = self._new_id("F")
        token = secrets.token_urlsafe(24)
        self._pending_uploads[token] = file_id
        self.files[file_id] = {
            "id": file_id,
            "name": filename,
            "length": length,
            "alt_txt": param_str(params, "alt_txt"),
        }
        return {"upload_url": f"{self.origin}/upload/v1/{token}", "file_id": file_id}

    def _file_object(self, file_id: str, title: str) -> JSON:
        meta = self.files[file_id]
        name = meta["name"]
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else "text"
        now = int(time.time())
        return {
            "id": file_id,
            "created": now,
            "timestamp": now,
            "name": name,
            "title": title or name,
            "mimetype": "text/plain"
            if ext in ("txt", "text", "csv")
            else "application/octet-stream",
            "filetype": ext,
            "pretty_type": ext.upper(),
            "user": self.bot_user_id,
            "user_team": self.team_id,
            "editable": False,
            "size": len(self.uploads.get(file_id, b"")),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{PERMALINK_HOST}/files-pri/{self.team_id}-{file_id}/{name}",
            "url_private_download": (
                f"{PERMALINK_HOST}/files-pri/{self.team_id}-{file_id}/download/{name}"
            ),
            "permalink": f"{PERMALINK_HOST}/files/{self.bot_user_id}/{file_id}/{name}",
            "permalink_public": f"{PERMALINK_HOST}/{self.team_id}-{file_id}-{secrets.token_hex(5)}",
            "alt_txt": meta.get("alt_txt", ""),
            "comments_count": 0,
            "is_starred": False,
            "shares": {},
            "channels": [],
            "groups": [],
            "ims": [],
            "has_more_shares": False,
            "has_rich_preview": False,
            "file_access": "visible",
        }

    def _files_complete_upload(self, params: JSON) -> JSON:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments", extra=error_messages("[ERROR] missing files"))
        targets = id_list(params.get("channels")) or id_list(params.get("channel_id"))
        channel_ids = [self._post_target(t) for t in targets]
        objects: list[JSON] = []
        for entry in entries:
            file_id = str(entry.get("id", "")) if isinstance(entry, dict) else ""
            if file_id not in self.files or file_id not in self.uploads:
                raise SlackError("file_not_found")
            title = str(entry.get("title") or "")
            objects.append(self._file_object(file_id, title))
        for cid in channel_ids:
            msg: JSON = {
                "user": self.bot_user_id,
                "type": "message",
                "ts": self._new_ts(),
                "bot_id": self.bot_id,
                "app_id": self.app_id,
                "text": param_str(params, "initial_comment"),
                "team": self.team_id,
                "files": copy.deepcopy(objects),
                "upload": True,
                "display_as_bot": False,
            }
            if params.get("thread_ts"):
                msg["thread_ts"] = param_str(params, "thread_ts")
            self.messages.setdefault(cid, []).append(msg)
        return {"files": objects}
