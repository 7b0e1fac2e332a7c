"""Filing a request in tests: the one-liner every filing test uses and the modal's values."""

from __future__ import annotations

ONE_LINER = "deck Acme Corp $250k due 2026-12-04 Renewal pitch for the CFO"


def request_form_values(
    *,
    request_type: str | None = "deal_deck",
    account: str | None = "Acme Corp",
    amount: str | None = "$250k",
    due: str | None = "2026-12-04",
    details: str | None = "Renewal pitch for the CFO",
    crm_link: str | None = None,
) -> dict:  # type: ignore[type-arg]
    selected = (
        {"text": {"type": "plain_text", "text": "x"}, "value": request_type}
        if request_type
        else None
    )
    return {
        "type": {"value": {"type": "static_select", "selected_option": selected}},
        "account": {"value": {"type": "plain_text_input", "value": account}},
        "amount": {"value": {"type": "plain_text_input", "value": amount}},
        "due": {"value": {"type": "datepicker", "selected_date": due}},
        "details": {"value": {"type": "plain_text_input", "value": details}},
        "crm_link": {"value": {"type": "url_text_input", "value": crm_link}},
    }
