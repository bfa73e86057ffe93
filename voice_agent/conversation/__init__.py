"""Conversation: the engine that runs a turn, the event bus, hand-off contract."""
