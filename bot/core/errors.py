"""Errors that are safe to show to a person in Slack."""


class UserError(Exception):
    """An expected problem, worded for the person who caused it.

    `field` names the modal input (block id) the message belongs to, when there is one,
    so handlers can answer a view submission with `response_action: errors`.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
