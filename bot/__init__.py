"""Parrot: the Discord side (bot, cogs, playback, store, admin CLI)."""

__version__ = "0.1.0"
