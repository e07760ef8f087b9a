"""The voice engine: audio, TTS, separation, conversion. Never imports discord or sqlite."""
