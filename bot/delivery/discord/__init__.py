"""Discord: alerts to channels and webhooks, follower pings and DMs, slash commands.

Modules: text (escaping, cutting), render (Alert/Reply → payloads), delivery (send, edit,
errors), slash (the command tree), runtime (start_discord). Only this package imports
discord; webhook URLs are read by `bot.discord_webhooks`, which `check` uses too.
"""
