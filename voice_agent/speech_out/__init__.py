"""Speech out: spoken forms of text, voices (Piper, espeak-ng), synthesis."""
