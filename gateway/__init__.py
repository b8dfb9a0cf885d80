"""Webhook workflow gateway: webhook URLs that run small graphs of nodes."""

__version__ = "0.1.0"
