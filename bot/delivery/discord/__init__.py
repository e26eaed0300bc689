"""Discord: alerts to channels and webhooks, follower pings and DMs, slash commands.

Modules: text (escaping, cutting), render (Alert/Reply → payloads), delivery (send, edit,
errors), webhook_url (reading a webhook URL), slash (the command tree), runtime
(start_discord). Only this package imports discord.
"""
