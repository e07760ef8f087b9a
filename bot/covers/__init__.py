"""Cover jobs: queued, run on the engine, persisted, resumed after a restart."""
