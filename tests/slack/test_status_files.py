"""The sandbox's file upload flow (files.getUploadURLExternal → upload →
files.completeUploadExternal) behaves as Slack's, driven by slack_sdk's files_upload_v2."""

import urllib.error
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.server import SlackSandbox

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def sandbox():
    with SlackSandbox(users={"U0ANN": "Ann"}, channels={"C0GENERAL": "general"}) as sb:
        yield sb


@pytest.fixture
def client(sandbox: SlackSandbox) -> WebClient:
    return WebClient(token=sandbox.bot_token, base_url=sandbox.url)


def test_files_upload_v2_shares_the_bytes_in_a_dm(sandbox, client):
    dm = client.conversations_open(users="U0ANN")["channel"]["id"]
    done = client.files_upload_v2(channel=dm, content=PNG, filename="chart.png",
                                  title="Chart", initial_comment="Here it is")
    assert done["file"]["mimetype"] == "image/png" and done["file"]["size"] == len(PNG)
    [record] = sandbox.files("U0ANN")
    assert record.data == PNG and record.is_png and record.title == "Chart"
    [message] = sandbox.dms("U0ANN")
    assert message.text == "Here it is" and message.files[0]["id"] == record.id


def test_an_upload_url_is_good_once_and_unknown_ids_are_refused(sandbox, client):
    ticket = client.files_getUploadURLExternal(filename="a.csv", length=3)
    assert ticket["upload_url"].startswith(sandbox.base_url + "/upload/")
    post = urllib.request.Request(ticket["upload_url"], data=b"a,b", method="POST")
    with urllib.request.urlopen(post) as answer:
        assert answer.status == 200 and answer.read() == b"OK - 3"
    with pytest.raises(urllib.error.HTTPError) as again:
        urllib.request.urlopen(urllib.request.Request(ticket["upload_url"], data=b"x",
                                                      method="POST"))
    assert again.value.code == 410
    with pytest.raises(SlackApiError) as unknown:
        client.files_completeUploadExternal(files=[{"id": "F0NOPE", "title": "x"}])
    assert unknown.value.response["error"] == "file_not_found"


def test_completing_before_the_upload_fails_and_without_a_channel_stays_private(sandbox,
                                                                              client):
    ticket = client.files_getUploadURLExternal(filename="a.csv", length=3)
    with pytest.raises(SlackApiError):
        client.files_completeUploadExternal(files=[{"id": ticket["file_id"]}])
    urllib.request.urlopen(urllib.request.Request(ticket["upload_url"], data=b"a,b",
                                                  method="POST"))
    done = client.files_completeUploadExternal(files=[{"id": ticket["file_id"]}])
    assert done["files"][0]["channels"] == []
    assert sandbox.messages("C0GENERAL") == []


def test_a_missing_length_is_refused(client):
    with pytest.raises(SlackApiError) as error:
        client.api_call("files.getUploadURLExternal", params={"filename": "a.png"})
    assert error.value.response["error"] == "invalid_arguments"
