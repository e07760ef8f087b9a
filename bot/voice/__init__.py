"""Live playback in Discord voice channels: frames, the streaming source, one player per server."""
