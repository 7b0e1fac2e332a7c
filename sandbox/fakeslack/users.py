"""users.* and usergroups.*: who is in the workspace and in which groups."""

from __future__ import annotations

import copy
import time

from sandbox.fakeslack.calls import JSON, SlackError
from sandbox.fakeslack.state import SlackState, paginate, param_flag, param_str


class UsersAPI(SlackState):
    """users.* and usergroups.* methods."""

    def _users_info(self, params: JSON) -> JSON:
        user = copy.deepcopy(self._user_or_error(param_str(params, "user")))
        if param_flag(params, "include_locale"):
            user["locale"] = "en-US"
        return {"user": user}

    def _users_list(self, params: JSON) -> JSON:
        members = [copy.deepcopy(u) for u in self.users.values()]
        page, cursor = paginate(members, lambda u: str(u["id"]), "user", params)
        return {
            "members": page,
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": cursor},
        }

    def _users_lookup_by_email(self, params: JSON) -> JSON:
        email = param_str(params, "email").lower()
        for user in self.users.values():
            if str(user["profile"].get("email", "")).lower() == email and email:
                return {"user": copy.deepcopy(user)}
        raise SlackError("users_not_found")

    def _usergroups_list(self, params: JSON) -> JSON:
        groups = []
        for group in self.usergroups.values():
            shown = copy.deepcopy(group)
            if not param_flag(params, "include_users"):
                shown.pop("users")
            groups.append(shown)
        return {"usergroups": groups}

    def _usergroups_users_list(self, params: JSON) -> JSON:
        group = self.usergroups.get(param_str(params, "usergroup"))
        if group is None:
            raise SlackError("no_such_subteam")
        return {"users": list(group["users"])}
