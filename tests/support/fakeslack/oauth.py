"""auth.test, team.info and OAuth installs: which workspace each token speaks for."""

from __future__ import annotations

import copy

from tests.support.fakeslack.calls import JSON, SlackError
from tests.support.fakeslack.state import PERMALINK_HOST, TEAM_NAME, SlackState
from tests.support.slack_payloads import TEAM_DOMAIN


class AuthAPI(SlackState):
    """auth.test, team.info, oauth.v2.access and install/revoke helpers."""

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
    ) -> None:
        """Let `code` be exchanged once by oauth.v2.access for `bot_token`, as after a person
        clicks Allow. An org-wide install (``is_enterprise_install``) has no team."""
        bot_user_id = f"UBOT{len(self.tokens)}"
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
        }
        self._token_identity[bot_token] = {
            "team_id": team_id,
            "team": team_name,
            "user_id": bot_user_id,
            "bot_id": "B" + bot_user_id[1:],
            "enterprise_id": enterprise_id,
            "is_enterprise_install": is_enterprise_install,
        }

    def revoke(self, token: str) -> None:
        """Slack answers ``token_revoked`` from now on, as after an uninstall."""
        self.revoked_tokens.add(token)

    def _oauth_v2_access(self, params: JSON) -> JSON:
        if params.get("client_id") != self.client_id or (
            params.get("client_secret") != self.client_secret
        ):
            raise SlackError("invalid_client_id")
        answer = self._oauth_codes.pop(str(params.get("code") or ""), None)
        if answer is None:
            raise SlackError("invalid_code")
        token = str(answer["access_token"])
        self.tokens[token] = str((answer.get("team") or {}).get("id") or "")
        return copy.deepcopy(answer)

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
