"""Feeds: fetch over HTTP politely, parse into articles, decide when to poll next."""
