-- Training (/voice train): jobs of kind 'training', what a running job last reported, the
-- extra recordings members upload for training, and the model a voice was trained into.

-- SQLite cannot change a CHECK constraint in place: the jobs table is rebuilt with the
-- new kind and a `detail` column (JSON: a training's epoch, loss and time left). No table
-- references jobs, so dropping the old one cascades nowhere.
CREATE TABLE jobs_new (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('cover', 'training')),
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
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    detail          TEXT                                 -- JSON, the latest progress report
);
INSERT INTO jobs_new (id, kind, state, stage, progress, user_id, guild_id, channel_id,
                      message_id, voice_id, params, input_path, output_path, error,
                      created_at, updated_at)
    SELECT id, kind, state, stage, progress, user_id, guild_id, channel_id, message_id,
           voice_id, params, input_path, output_path, error, created_at, updated_at
    FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_state ON jobs (state);

-- Recordings uploaded for training only (`/voice train recording1..3`, `--extra`): stored
-- at the upload's rate (at most 48 kHz) under voices/<id>/training/audio/. Enrolment
-- samples keep their own copy there too, named by the sample's id, without a row here.
CREATE TABLE training_recordings (
    id              TEXT PRIMARY KEY,
    voice_id        TEXT NOT NULL REFERENCES voices (id) ON DELETE CASCADE,
    path            TEXT NOT NULL,                       -- relative to the data dir
    original_name   TEXT,                                -- shown to people, never a path
    sha256          TEXT NOT NULL,                       -- of the checked 24 kHz version
    duration_s      REAL NOT NULL,
    sample_rate     INTEGER NOT NULL,
    consent_at      TEXT,
    consent_via     TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX training_recordings_voice ON training_recordings (voice_id);

-- The model a voice's last finished training made (the voice's rvc_model points at its
-- copy while it is attached): what /cover names as the singer.
CREATE TABLE trained_models (
    voice_id        TEXT PRIMARY KEY REFERENCES voices (id) ON DELETE CASCADE,
    rvc_model       TEXT NOT NULL,                       -- the attached copy, relative
    epochs          INTEGER NOT NULL,
    seconds_of_audio REAL NOT NULL,
    job_id          TEXT,
    trained_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
