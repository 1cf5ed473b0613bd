"""Presentation beside the Slack layer: the trainer chart, a PNG (`charts`)."""
