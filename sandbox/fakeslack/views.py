"""views.*: modals (open, push, update) and App Home (publish), with trigger ids."""

from __future__ import annotations

import copy

from sandbox.fakeslack.blockkit import missing_field, validate_view
from sandbox.fakeslack.calls import JSON, SlackError
from sandbox.fakeslack.state import SlackState, error_messages, param_str, with_block_ids


class ViewsAPI(SlackState):
    """views.* methods."""

    def _check_view(self, params: JSON, allowed_types: tuple[str, ...]) -> JSON:
        view = params.get("view")
        if view is None:
            raise SlackError(
                "invalid_arguments", extra=error_messages(f"[ERROR] {missing_field('', 'view')}")
            )
        errors = validate_view(view, allowed_types=allowed_types)
        if errors:
            raise SlackError("invalid_arguments", extra=error_messages(*errors))
        assert isinstance(view, dict)
        return view

    def _use_trigger(self, params: JSON) -> None:
        trigger_id = param_str(params, "trigger_id")
        if not trigger_id:
            raise SlackError(
                "invalid_arguments",
                extra=error_messages(f"[ERROR] {missing_field('', 'trigger_id')}"),
            )
        if "expired" in trigger_id:
            raise SlackError("expired_trigger_id")
        if "invalid" in trigger_id:
            raise SlackError("invalid_arguments", extra=error_messages("invalid `trigger_id`"))
        if trigger_id in self._used_triggers:
            raise SlackError("exchanged_trigger_id")
        self._used_triggers.add(trigger_id)

    def _build_view(self, spec: JSON, view_id: str, root_view_id: str | None) -> JSON:
        view: JSON = {
            "id": view_id,
            "team_id": self.team_id,
            "type": spec["type"],
            "blocks": with_block_ids(spec.get("blocks") or []),
            "private_metadata": spec.get("private_metadata", ""),
            "callback_id": spec.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._new_hash(),
            "title": copy.deepcopy(spec.get("title")),
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "close": copy.deepcopy(spec.get("close")),
            "submit": copy.deepcopy(spec.get("submit")),
            "previous_view_id": None,
            "root_view_id": root_view_id or view_id,
            "app_id": self.app_id,
            "external_id": spec.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        if spec["type"] == "home":
            view.pop("title")
        return view

    def _check_external_id(self, spec: JSON, own_id: str | None) -> None:
        external_id = spec.get("external_id")
        if not external_id:
            return
        for view in self.views.values():
            if view.get("external_id") == external_id and view["id"] != own_id:
                raise SlackError("duplicate_external_id")

    def _store_view(self, key: str, view: JSON) -> JSON:
        self.views[key] = view
        self._view_keys[view["id"]] = key
        return {"view": copy.deepcopy(view)}

    def _views_open(self, params: JSON) -> JSON:
        self._use_trigger(params)
        spec = self._check_view(params, ("modal",))
        self._check_external_id(spec, None)
        view_id = self._new_id("V")
        return self._store_view(view_id, self._build_view(spec, view_id, None))

    def _views_push(self, params: JSON) -> JSON:
        self._use_trigger(params)
        spec = self._check_view(params, ("modal",))
        self._check_external_id(spec, None)
        view_id = self._new_id("V")
        return self._store_view(view_id, self._build_view(spec, view_id, None))

    def _views_update(self, params: JSON) -> JSON:
        view_id = param_str(params, "view_id")
        external_id = param_str(params, "external_id")
        if not view_id and not external_id:
            raise SlackError(
                "invalid_arguments", extra=error_messages(f"[ERROR] {missing_field('', 'view_id')}")
            )
        key = self._view_keys.get(view_id) if view_id else None
        if key is None and external_id:
            key = next(
                (k for k, v in self.views.items() if v.get("external_id") == external_id), None
            )
        if key is None:
            raise SlackError("not_found")
        current = self.views[key]
        spec = self._check_view(params, (current["type"],))
        given_hash = param_str(params, "hash")
        if given_hash and given_hash != current["hash"]:
            raise SlackError("hash_conflict")
        self._check_external_id(spec, current["id"])
        updated = self._build_view(spec, current["id"], current["root_view_id"])
        updated["previous_view_id"] = current["previous_view_id"]
        return self._store_view(key, updated)

    def _views_publish(self, params: JSON) -> JSON:
        user_id = param_str(params, "user_id")
        self._user_or_error(user_id)
        spec = self._check_view(params, ("home",))
        current = self.views.get(user_id)
        given_hash = param_str(params, "hash")
        if current is not None and given_hash and given_hash != current["hash"]:
            raise SlackError("hash_conflict")
        view_id = current["id"] if current is not None else self._new_id("V")
        return self._store_view(user_id, self._build_view(spec, view_id, None))
