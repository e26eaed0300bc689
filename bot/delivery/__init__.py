"""Deliveries: the console, Discord and Slack each render the platform-neutral Alert."""
