-- Speaking preferences. A member's own, per server, sit beside their default voice (so
-- privacy export and delete already cover them); NULL means "not chosen": the server's
-- default language, or the model's defaults for the style.
ALTER TABLE member_settings ADD COLUMN language TEXT;             -- e.g. 'fr'
ALTER TABLE member_settings ADD COLUMN exaggeration REAL;         -- /say's "expressiveness"
ALTER TABLE member_settings ADD COLUMN cfg_weight REAL;           -- /say's "guidance"
ALTER TABLE member_settings ADD COLUMN temperature REAL;
ALTER TABLE member_settings ADD COLUMN seed INTEGER;
-- The language of members who chose none.
ALTER TABLE guild_settings ADD COLUMN default_language TEXT;
