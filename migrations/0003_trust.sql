-- Trust: how consent was given, voices hidden by a server's moderators, and an audit
-- trail of actions on voices and settings.

-- How the enroller asserted consent: 'discord' (/voice enroll), 'cli' (parrot voices
-- enroll --consent), 'preset' (placed by the bot owner), 'import' (a voice archive).
ALTER TABLE voices ADD COLUMN consent_via TEXT;
-- Each sample carries its own consent ('/voice add-sample' asks again).
ALTER TABLE voice_samples ADD COLUMN consent_at TEXT;
ALTER TABLE voice_samples ADD COLUMN consent_via TEXT;
-- Voices from before this migration: their enrolment consent came from /voice enroll
-- when they were uploads; presets were placed by the bot owner.
UPDATE voices SET consent_via = 'discord' WHERE consent_at IS NOT NULL AND source = 'upload';
UPDATE voices SET consent_via = 'preset', consent_at = COALESCE(consent_at, created_at)
    WHERE source = 'preset';

-- A server's moderators hid a voice there: nobody may use it in that server.
CREATE TABLE voice_hides (
    voice_id    TEXT NOT NULL REFERENCES voices (id) ON DELETE CASCADE,
    guild_id    INTEGER NOT NULL,
    hidden_by   INTEGER,                             -- the moderator (NULL once purged)
    reason      TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (voice_id, guild_id)
);
CREATE INDEX voice_hides_guild ON voice_hides (guild_id);

-- Who did what to which voice or setting. The trail outlives the voice (no foreign key);
-- purging a member keeps the action and drops who it was and which voice.
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor_kind      TEXT NOT NULL CHECK (actor_kind IN ('member', 'cli', 'system')),
    actor_id        INTEGER,                         -- the member, when actor_kind = 'member'
    action          TEXT NOT NULL,
    voice_id        TEXT,
    voice_name      TEXT,
    voice_owner_id  INTEGER,
    guild_id        INTEGER,
    detail          TEXT                             -- JSON object, or NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_voice ON audit_log (voice_id);
CREATE INDEX audit_log_actor ON audit_log (actor_id);
CREATE INDEX audit_log_owner ON audit_log (voice_owner_id);
CREATE INDEX audit_log_guild ON audit_log (guild_id);
