"""Speech in: decoding audio, voice activity detection, speech-to-text."""
