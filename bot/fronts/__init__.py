"""How Slack and HTTP reach the bot: the Bolt app (`app`), the Flask app behind waitress
(`web`: the signed Slack route in `web_slack`, the ingest API in `web_ingest`,
/healthz, /metrics) and the Socket Mode front (`socket_mode`)."""
