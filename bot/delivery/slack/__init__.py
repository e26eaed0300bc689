"""Slack: Block Kit rendering, channel and webhook delivery, the /stancewatch command."""
