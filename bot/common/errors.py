"""Typed domain errors that carry the sentence the user should read.

Handlers translate them into an ephemeral answer in one place; anything else is a bug,
logged with an id.
"""


class AuditbotError(Exception):
    """An expected refusal or failure with a message fit for the person who caused it."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class NotFound(AuditbotError):
    pass


class NotAReviewer(AuditbotError):
    pass


class OwnOutput(AuditbotError):
    pass


class InvalidGrade(AuditbotError):
    pass


class NotAManager(AuditbotError):
    pass
