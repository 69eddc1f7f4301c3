-- Security and moderation events, append-only: a row is written when the event
-- happens and deleted only when it is older than the retention (PUJO_AUDIT_RETENTION);
-- nothing ever changes one. The actor is a person (`actor_id`, no foreign key: the
-- record outlives the account), somebody not logged in, or the command line.
-- `client` is the address truncated (IPv4 to /24, IPv6 to /48); no password, token
-- or secret is ever recorded. `at` is milliseconds since the epoch.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor_kind  TEXT NOT NULL CHECK (actor_kind IN ('user', 'anonymous', 'cli')),
    actor_id    INTEGER,
    actor_name  TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    object_kind TEXT NOT NULL DEFAULT '',
    object_id   TEXT NOT NULL DEFAULT '',
    client      TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_events_action ON audit_events (action, id DESC);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id DESC);
CREATE INDEX audit_events_at ON audit_events (at);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
