"""Whole screens for the demo: a channel with its threads, and everything one person saw.

print(render_channel(sandbox, "C0CLINICAL"))
print(render_person(sandbox, "U0NURSE1"))   # DMs, ephemerals, modals, App Home
"""

from bot.sandbox.render import render_message, render_view
from bot.sandbox.server import SlackSandbox


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def render_channel(sandbox: SlackSandbox, channel: str) -> str:
    """Top-level messages in order, each followed by its thread replies (indented)."""
    names, channels = sandbox.user_names, sandbox.channel_names
    messages = sandbox.messages(channel)
    title = f"#{channels[channel]}" if channel in channels else channel
    out = [f"=== {title} ==="]
    for parent in (m for m in messages if m.thread_ts is None):
        author = names.get(parent.user, parent.user)
        out.append(f"{author}:")
        out.append(_indent(render_message(parent, names=names, channels=channels), "  "))
        for reply in (m for m in messages if m.thread_ts == parent.ts):
            out.append(f"  ↳ {names.get(reply.user, reply.user)}:")
            out.append(_indent(render_message(reply, names=names, channels=channels), "    "))
    return "\n".join(out)


def render_person(sandbox: SlackSandbox, user: str) -> str:
    """What `user` saw privately: DMs from the bot, ephemeral messages, modals and App Home."""
    names, channels = sandbox.user_names, sandbox.channel_names
    out = [f"=== what {names.get(user, user)} saw ==="]
    for message in sandbox.dms(user):
        out.append("DM:")
        out.append(_indent(render_message(message, names=names, channels=channels), "  "))
    for ephemeral in sandbox.ephemerals(user=user):
        where = channels.get(ephemeral.channel, ephemeral.channel)
        state = " (replaced)" if ephemeral.replaced else ""
        out.append(f"Only visible to you in #{where}{state}:")
        out.append(_indent(render_message(ephemeral, names=names, channels=channels), "  "))
    for record in sandbox.views(user):
        out.append("Modal" + (" (closed)" if record.closed else " (open)") + ":")
        out.append(_indent(render_view(record, names=names, channels=channels), "  "))
    home = sandbox.home(user)
    if home is not None:
        out.append(_indent(render_view(home, names=names, channels=channels), "  "))
    if len(out) == 1:
        out.append("  (nothing)")
    return "\n".join(out)
