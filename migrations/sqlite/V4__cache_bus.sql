-- The cache invalidation bus needs nothing stored with SQLite: one process owns the
-- file, so its numbers are kept in memory (src/cache/bus.rs). This migration keeps
-- both dialects at the same version.
SELECT 1 WHERE 0;
