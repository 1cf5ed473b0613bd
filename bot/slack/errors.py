"""Slack's error codes for writes that failed for good, and what a person does about each.

The outbox keeps a failed write with the error as Slack gave it (``bot.services.outbox``,
plain data); the status views and `auditbot outbox retry` show it with ``fix_for``. Slack's
codes live here, on the Slack side, so the domain knows nothing of them.
"""

# A reply whose thread's first message failed is kept failed with this prefix and the
# parent's error (``bot.slack.delivery``): the fix is the parent's.
PARENT_FAILED = "parent message failed: "
# What a person can do about each permanent error Slack gives; the status views show it.
FIXES = {
    "channel_not_found": "The channel does not exist or the bot cannot see it: check the "
                         "channel id in auditbot.toml, or invite the bot if it is private.",
    "not_in_channel": "The bot is not in the channel: invite it (/invite @auditbot).",
    "is_archived": "The channel is archived: unarchive it or point the task type at another "
                   "channel in auditbot.toml.",
    "invalid_auth": "Slack refused the bot token: reinstall the app and update "
                    "SLACK_BOT_TOKEN.",
    "token_revoked": "The bot token was revoked: reinstall the app and update "
                     "SLACK_BOT_TOKEN.",
    "account_inactive": "The bot token belongs to a deactivated app or user: reinstall the "
                        "app and update SLACK_BOT_TOKEN.",
    "missing_scope": "The app lacks a scope it needs: reinstall it from manifest.yml.",
    "user_not_found": "The person is not in the workspace: fix the user id in auditbot.toml.",
    "cannot_dm_bot": "The target is a bot, which cannot be sent a DM: fix auditbot.toml.",
}


def fix_for(error: str) -> str:
    """What a person should do about a delivery that failed with ``error``."""
    cause = error.removeprefix(PARENT_FAILED)
    fix = FIXES.get(cause, f"Slack refused the message ({cause}); see the bot's logs.")
    if error.startswith(PARENT_FAILED):
        return f"Its thread's first message failed. {fix}"
    return fix
