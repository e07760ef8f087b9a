-- Parrot's first schema. Times are ISO-8601 UTC text; Discord ids are integers.

CREATE TABLE voices (
    id              TEXT PRIMARY KEY,                    -- random hex, also the folder name
    name            TEXT NOT NULL COLLATE NOCASE,
    owner_id        INTEGER,                             -- Discord user; NULL for presets
    guild_id        INTEGER,                             -- where it was enrolled; NULL for presets
    visibility      TEXT NOT NULL DEFAULT 'private'
                    CHECK (visibility IN ('private', 'guild', 'global')),
    source          TEXT NOT NULL DEFAULT 'upload'
                    CHECK (source IN ('upload', 'preset', 'import', 'cli')),
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'ready', 'failed', 'retired')),
    status_detail   TEXT,
    tts_model       TEXT,                                -- which model made conds.pt
    conditionals    TEXT,                                -- path relative to the data dir
    rvc_model       TEXT,
    rvc_index       TEXT,
    consent_at      TEXT,                                -- when the enroller confirmed consent
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
-- One name per owner (presets share owner 0).
CREATE UNIQUE INDEX voices_owner_name ON voices (COALESCE(owner_id, 0), name);
CREATE INDEX voices_guild ON voices (guild_id);

CREATE TABLE voice_samples (
    id              TEXT PRIMARY KEY,
    voice_id        TEXT NOT NULL REFERENCES voices (id) ON DELETE CASCADE,
    path            TEXT NOT NULL,                       -- relative to the data dir
    original_name   TEXT,                                -- shown to people, never used as a path
    sha256          TEXT NOT NULL,
    duration_s      REAL NOT NULL,
    sample_rate     INTEGER NOT NULL,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX voice_samples_voice ON voice_samples (voice_id);

CREATE TABLE guild_settings (
    guild_id            INTEGER PRIMARY KEY,
    default_voice_id    TEXT REFERENCES voices (id) ON DELETE SET NULL,
    announce_names      INTEGER NOT NULL DEFAULT 0 CHECK (announce_names IN (0, 1)),
    max_text_chars      INTEGER NOT NULL DEFAULT 300 CHECK (max_text_chars > 0),
    required_role_id    INTEGER,
    idle_timeout_s      INTEGER NOT NULL DEFAULT 300 CHECK (idle_timeout_s > 0),
    autoread_channel_id INTEGER,
    updated_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE member_settings (
    guild_id            INTEGER NOT NULL,
    user_id             INTEGER NOT NULL,
    default_voice_id    TEXT REFERENCES voices (id) ON DELETE SET NULL,
    updated_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (guild_id, user_id)
);

CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('cover')),
    state           TEXT NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    stage           TEXT,
    progress        REAL NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    user_id         INTEGER,
    guild_id        INTEGER,
    channel_id      INTEGER,
    message_id      INTEGER,
    voice_id        TEXT REFERENCES voices (id) ON DELETE SET NULL,
    params          TEXT NOT NULL DEFAULT '{}',          -- JSON
    input_path      TEXT,
    output_path     TEXT,
    error           TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX jobs_state ON jobs (state);

CREATE TABLE generations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL CHECK (kind IN ('speech', 'cover')),
    user_id         INTEGER,
    guild_id        INTEGER,
    voice_id        TEXT REFERENCES voices (id) ON DELETE SET NULL,
    characters      INTEGER,
    input_seconds   REAL,
    audio_seconds   REAL,
    elapsed_seconds REAL,
    method          TEXT,
    output_path     TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX generations_guild_time ON generations (guild_id, created_at);
CREATE INDEX generations_user_time ON generations (user_id, created_at);
