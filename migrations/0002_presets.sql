-- Preset voices imported from the references/ folder: one row per reference (a file or a
-- folder of samples), so that each is converted once and failures stay visible.

CREATE TABLE presets (
    name        TEXT PRIMARY KEY COLLATE NOCASE,     -- the voice name (file stem or folder name)
    source      TEXT NOT NULL,                       -- path relative to the references folder
    voice_id    TEXT REFERENCES voices (id) ON DELETE SET NULL,
    sha256      TEXT NOT NULL,                       -- digest of the input file(s)
    status      TEXT NOT NULL CHECK (status IN ('ready', 'failed', 'retired')),
    error       TEXT,                                -- why the last import failed
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX presets_voice ON presets (voice_id);
