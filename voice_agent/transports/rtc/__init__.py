"""WebRTC voice sessions (aiortc): incoming microphone, outgoing reply track, data channel."""
