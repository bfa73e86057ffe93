"""Transports: the HTTP server and WebRTC sessions that carry a conversation."""
