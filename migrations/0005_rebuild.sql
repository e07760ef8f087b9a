-- Voices rebuilt for another TTS model (PARROT_TTS_MODEL changed). A voice keeps one
-- conditionals file per model on disk (conds-<model>.pt); these rows only track the work:
-- one per voice and model while it waits, then whether it was rebuilt or failed. A round
-- of rebuilds for a model is every row of that model; its progress is "n of m" rows
-- finished. A failed voice is not queued again by the start-up rebuild (only by
-- `parrot voices rebuild`).
CREATE TABLE voice_rebuilds (
    voice_id    TEXT NOT NULL REFERENCES voices (id) ON DELETE CASCADE,
    tts_model   TEXT NOT NULL,                       -- the engine's backend name
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'done', 'failed')),
    detail      TEXT,                                -- why it failed, for the voice's owner
    queued_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (voice_id, tts_model)
);
CREATE INDEX voice_rebuilds_model ON voice_rebuilds (tts_model, state);
