"""Files to a person's DM through Slack's upload flow (files.getUploadURLExternal, the
upload to the URL it returns, files.completeUploadExternal: slack_sdk's
``files_upload_v2`` does all three).

    send_to_dm(client, user="U0MANAGER1", filename="grades.csv", content=b"...",
               title="Grades", comment="This window's grades")
"""

from slack_sdk import WebClient


def send_to_dm(client: WebClient, *, user: str, filename: str, content: bytes, title: str,
               comment: str) -> str | None:
    """Upload ``content`` into the bot's DM with ``user``; returns the file id."""
    dm = client.conversations_open(users=user)["channel"]["id"]
    done = client.files_upload_v2(channel=dm, filename=filename, content=content, title=title,
                                  initial_comment=comment)
    file = done.get("file") or {}
    return file.get("id") if isinstance(file, dict) else None
