"""auth.test, team.info and OAuth installs: which workspace each token speaks for.

Token rotation as Slack does it: an install with `expires_in` gets an expiring ``xoxe.xoxb-``
token and a refresh token; oauth.v2.access with ``grant_type=refresh_token`` trades the refresh
token (once: Slack revokes it) for a new pair, and an expired token is refused with
``token_expired``. Expiry runs on the real clock, as slack_sdk's rotator reads it."""

from __future__ import annotations

import copy
import time

from sandbox.fakeslack.calls import JSON, SlackError
from sandbox.fakeslack.state import (
    PERMALINK_HOST,
    TEAM_NAME,
    SlackState,
    paginate,
    param_int,
    param_str,
)
from sandbox.slack_payloads import TEAM_DOMAIN

ROTATED_EXPIRES_IN = 43200  # Slack's rotating tokens last 12 hours


class AuthAPI(SlackState):
    """auth.test, auth.teams.list, team.info, oauth.v2.access and install/revoke helpers."""

    # auth.teams.list answers at most this many workspaces a page, whatever `limit` asks
    # (Slack may return fewer than asked); a test lowers it to make the bot turn pages.
    teams_page_size = 100

    def _auth_test(self, params: JSON) -> JSON:
        del params
        return {
            "url": f"{PERMALINK_HOST}/",
            "team": TEAM_NAME,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
            **self._token_identity.get(self._current_token, {}),
        }

    # ------------------------------------------------------------------ OAuth installs

    def add_install(
        self,
        code: str,
        *,
        team_id: str | None,
        bot_token: str,
        team_name: str = "Another Workspace",
        enterprise_id: str | None = None,
        enterprise_name: str = "Alignbot Test Org",
        is_enterprise_install: bool = False,
        installer: str = "U0INSTALLER",
        scope: str = "commands,chat:write",
        expires_in: int | None = None,
    ) -> None:
        """Let `code` be exchanged once by oauth.v2.access for `bot_token`, as after a person
        clicks Allow. An org-wide install (``is_enterprise_install``) has no team. With
        `expires_in` the app has token rotation on: the answer carries a refresh token and the
        token expires `expires_in` seconds after the exchange."""
        bot_user_id = f"UBOT{len(self.tokens)}"
        rotation: JSON = {}
        if expires_in is not None:
            rotation = {"refresh_token": f"xoxe-1-refresh-{code}", "expires_in": expires_in}
        self._oauth_codes[code] = {
            "access_token": bot_token,
            "token_type": "bot",
            "scope": scope,
            "bot_user_id": bot_user_id,
            "app_id": self.app_id,
            "team": None if team_id is None else {"name": team_name, "id": team_id},
            "enterprise": None
            if enterprise_id is None
            else {"name": enterprise_name, "id": enterprise_id},
            "is_enterprise_install": is_enterprise_install,
            "authed_user": {"id": installer},
            **rotation,
        }
        self._token_identity[bot_token] = {
            "team_id": team_id,
            "team": team_name,
            "user_id": bot_user_id,
            "bot_id": "B" + bot_user_id[1:],
            "enterprise_id": enterprise_id,
            "is_enterprise_install": is_enterprise_install,
        }

    def add_org_workspaces(self, enterprise_id: str, teams: dict[str, str]) -> None:
        """The workspaces (id -> name) of an Enterprise Grid org that its org-wide install was
        approved for: what auth.teams.list answers to the org's token."""
        self.org_teams[enterprise_id] = [{"id": tid, "name": name} for tid, name in teams.items()]

    def revoke(self, token: str) -> None:
        """Slack answers ``token_revoked`` from now on, as after an uninstall."""
        self.revoked_tokens.add(token)

    def expire_token(self, token: str) -> None:
        """Slack answers ``token_expired`` to `token` from now on, as once its time is up."""
        self.token_expires_at[token] = time.time() - 1

    def token_expired(self, token: str) -> bool:
        expires_at = self.token_expires_at.get(token)
        return expires_at is not None and expires_at <= time.time()

    def _oauth_v2_access(self, params: JSON) -> JSON:
        if params.get("client_id") != self.client_id or (
            params.get("client_secret") != self.client_secret
        ):
            raise SlackError("invalid_client_id")
        if params.get("grant_type") == "refresh_token":
            return self._refresh(param_str(params, "refresh_token"))
        answer = self._oauth_codes.pop(str(params.get("code") or ""), None)
        if answer is None:
            raise SlackError("invalid_code")
        self._grant(answer)
        return copy.deepcopy(answer)

    def _grant(self, answer: JSON) -> None:
        """Slack accepts the answer's token from now on (until it expires, if it rotates)."""
        token = str(answer["access_token"])
        self.tokens[token] = str((answer.get("team") or {}).get("id") or "")
        if "refresh_token" in answer:
            self.token_expires_at[token] = time.time() + int(answer["expires_in"])
            self._refresh_tokens[str(answer["refresh_token"])] = copy.deepcopy(answer)

    def _refresh(self, refresh_token: str) -> JSON:
        """A new token and refresh token for a refresh token, which Slack then revokes. The old
        access token still works until it expires."""
        grant = self._refresh_tokens.pop(refresh_token, None)
        if grant is None:
            raise SlackError("invalid_refresh_token")
        old_token = str(grant["access_token"])
        serial = next(self._ids)
        answer = {
            **{key: value for key, value in grant.items() if key != "authed_user"},
            "access_token": f"xoxe.xoxb-1-rotated{serial}",
            "refresh_token": f"xoxe-1-refresh{serial}",
            "expires_in": ROTATED_EXPIRES_IN,
        }
        self._token_identity[answer["access_token"]] = copy.deepcopy(
            self._token_identity.get(old_token, {})
        )
        self._grant(answer)
        return copy.deepcopy(answer)

    def _auth_teams_list(self, params: JSON) -> JSON:
        """The workspaces an org-wide install was approved for; a workspace's own token sees
        its workspace alone."""
        identity = self._token_identity.get(self._current_token, {})
        enterprise_id = identity.get("enterprise_id")
        if identity.get("is_enterprise_install") and enterprise_id:
            teams = copy.deepcopy(self.org_teams.get(str(enterprise_id), []))
        else:
            teams = [{"id": identity.get("team_id") or self.team_id, "name": TEAM_NAME}]
        limit = param_int(params, "limit", 100)
        if not 0 < limit <= 1000:
            raise SlackError("invalid_limit")
        page_params = {**params, "limit": min(limit, self.teams_page_size)}
        page, cursor = paginate(teams, lambda team: str(team["id"]), "team", page_params)
        return {"teams": page, "response_metadata": {"next_cursor": cursor}}

    def _team_info(self, params: JSON) -> JSON:
        del params
        return {
            "team": {
                "id": self.team_id,
                "name": TEAM_NAME,
                "url": f"{PERMALINK_HOST}/",
                "domain": TEAM_DOMAIN,
                "email_domain": "",
                "icon": {"image_default": True},
            }
        }
