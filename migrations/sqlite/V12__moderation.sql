-- Pandal moderators: admins grant the role per pandal; a moderator reviews guests'
-- photos, acts on reports and removes content in that pandal's albums (those not
-- private) and nowhere else.
CREATE TABLE pandal_moderators (
    pandal_id  INTEGER NOT NULL REFERENCES pandals (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    granted_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (pandal_id, user_id)
);
CREATE INDEX pandal_moderators_user ON pandal_moderators (user_id);
-- Reports of a photo or a comment by anyone who can see it, for the album's owner,
-- its pandal's moderators and admins. One open report per target and reporter (a
-- person, or a client's network when nobody is logged in); acting on one closes every
-- open report of its target.
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('photo', 'comment')),
    target_id   INTEGER NOT NULL,
    album_id    INTEGER NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    reason      TEXT NOT NULL CHECK (reason IN ('spam', 'abuse', 'private', 'copyright', 'other')),
    note        TEXT NOT NULL DEFAULT '',
    reporter_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    reporter    TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'removed', 'dismissed')),
    resolved_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    resolved_at INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX reports_open_once ON reports (target_kind, target_id, reporter) WHERE status = 'open';
CREATE INDEX reports_open ON reports (status, id DESC);
CREATE INDEX reports_album ON reports (album_id, status);
