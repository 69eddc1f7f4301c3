-- One million photos in ten thousand albums, for scripts/bench/api.sh; the same SQL
-- runs on PostgreSQL (psql, with :now and :hash set) and on SQLite (the script swaps
-- in SQLite's spellings).
--
-- Album 1 is the long one the paging benchmark walks: every tenth photo (100,000 in
-- all, spread over the whole id range as a busy album's would be). The other 900,000
-- photos go round-robin into albums 2..10000. Every photo has a like and every fifth
-- a comment, so the counts the list returns are real work.
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 1000)
INSERT INTO users (username, email, display_name, password_hash, created_at, updated_at)
SELECT 'user' || g, 'user' || g || '@pujo.example', 'User ' || g, 'x', :now, :now FROM s;

WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 10000)
INSERT INTO albums (owner_id, title, description, visibility, created_at, updated_at, search_text)
SELECT 1 + (g % 1000), 'Album ' || g, '', CASE WHEN g % 10 = 5 THEN 'private' ELSE 'public' END, :now, :now,
       'album ' || g
FROM s;

WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 1000000)
INSERT INTO photos (owner_id, album_id, caption, width, height, exif, sha256, content_type, byte_size,
                    gps_privacy, created_at, updated_at, search_text)
SELECT a.owner_id, a.id, 'Pandal photo ' || g, 4000, 3000, '{"camera":"Pixel 9"}', :hash, 'image/jpeg', 3000000,
       'hidden', :now, :now, 'pandal photo ' || g
FROM s JOIN albums a ON a.id = CASE WHEN g % 10 = 0 THEN 1 ELSE 2 + (g % 9999) END;

INSERT INTO likes (photo_id, user_id, created_at) SELECT id, 1 + (id % 1000), :now FROM photos;
INSERT INTO comments (photo_id, author_id, body, created_at)
SELECT id, 1 + ((id * 7) % 1000), 'Sundor!', :now FROM photos WHERE id % 5 = 0;
