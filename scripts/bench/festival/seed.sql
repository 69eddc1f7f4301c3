-- A festival's data for scripts/bench/festival.sh, straight into PostgreSQL (psql sets
-- :users, :pandals, :albums, :photos, :hot). Triggers are off for the load (the counts
-- are written as they will be), so this runs as the superuser the script made.
--
-- users 1..:users, each with a session whose cookie is `festival<id, 35 digits>` (43
-- characters, as Pujo's tokens are; their sha256 is what Pujo stores); pandals 1..:pandals in Kolkata's paras; albums
-- 1..:albums, all public, album a owned by user 1 + (a-1) % :users (so album u is user
-- u's) and at pandal 1 + (a-1) % :pandals; photos spread evenly over the albums, each
-- pointing at one of the :hot blobs of the hot set (sha256 of 'festival-blob-<k>'),
-- different blobs within an album; a like on every photo and a comment on every tenth.
-- (With triggers off, the columns triggers fill, such as albums.link_key, are written here.)
SET session_replication_role = replica;

CREATE TEMP TABLE paras (i INT PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO paras VALUES
  (0, 'Bagbazar'), (1, 'Kumartuli'), (2, 'Ahiritola'), (3, 'Shobhabazar'), (4, 'College Square'),
  (5, 'Santosh Mitra Square'), (6, 'Md Ali Park'), (7, 'Suruchi Sangha'), (8, 'Ekdalia'), (9, 'Singhi Park'),
  (10, 'Tridhara'), (11, 'Hindustan Park'), (12, 'Deshapriya Park'), (13, 'Badamtala'), (14, 'Chetla'),
  (15, 'Naktala'), (16, 'Behala'), (17, 'Salt Lake'), (18, 'FD Block'), (19, 'Lake Town'),
  (20, 'Sreebhumi'), (21, 'Dum Dum Park'), (22, 'Jodhpur Park'), (23, 'Maddox Square'), (24, 'Ballygunge'),
  (25, 'Kalighat'), (26, 'Bhowanipore'), (27, 'Shyambazar'), (28, 'Hatibagan'), (29, 'Kasba'),
  (30, 'Jadavpur'), (31, 'Garia'), (32, 'Tollygunge'), (33, 'Howrah'), (34, 'Barasat'),
  (35, 'Chaltabagan'), (36, 'Jagat Mukherjee Park'), (37, 'Baranagar'), (38, 'Sealdah'), (39, 'Rajdanga');
CREATE TEMP TABLE words (i INT PRIMARY KEY, word TEXT NOT NULL);
INSERT INTO words VALUES (0, 'Pratima'), (1, 'Dhunuchi'), (2, 'Aarti'), (3, 'Sindoor'), (4, 'Dhak'),
  (5, 'Pandal'), (6, 'Bhog'), (7, 'Anjali'), (8, 'Alpana'), (9, 'Lights');

INSERT INTO users (username, email, display_name, password_hash, created_at, updated_at)
SELECT 'visitor' || g, 'visitor' || g || '@pujo.example', 'Visitor ' || g, 'x', now(), now()
FROM generate_series(1, :users) g;

INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, user_agent)
SELECT sha256(convert_to('festival' || lpad(g::text, 35, '0'), 'UTF8')), g, now(), now(), now() + interval '30 days', 'festival'
FROM generate_series(1, :users) g;

INSERT INTO pandals (name, para, city, year, lat, lon, created_at, search_text)
SELECT p.name || ' Sarbojanin ' || g, p.name, 'Kolkata', 2026, 22.45 + (g % 97) * 0.003, 88.30 + (g % 89) * 0.003,
       now(), lower(p.name) || ' sarbojanin ' || g || ' kolkata 2026'
FROM generate_series(1, :pandals) g JOIN paras p ON p.i = g % 40;

INSERT INTO albums (owner_id, title, description, visibility, pandal_id, created_at, updated_at, search_text, photo_count,
                    link_key)
SELECT 1 + (g - 1) % :users, 'Ashtami at ' || p.name || ' ' || g, '', 'public', 1 + (g - 1) % :pandals,
       now() - make_interval(secs => :albums - g), now(), 'ashtami at ' || lower(p.name) || ' ' || g,
       :photos / :albums + CASE WHEN g <= :photos % :albums THEN 1 ELSE 0 END, md5('festival-album-' || g)
FROM generate_series(1, :albums) g JOIN paras p ON p.i = (1 + (g - 1) % :pandals) % 40;

CREATE TEMP TABLE hot (k INT PRIMARY KEY, sha BYTEA NOT NULL);
INSERT INTO hot SELECT k, sha256(convert_to('festival-blob-' || k, 'UTF8')) FROM generate_series(0, :hot - 1) k;

INSERT INTO photos (owner_id, album_id, caption, width, height, exif, sha256, content_type, byte_size, gps_privacy,
                    created_at, updated_at, search_text, like_count, comment_count)
SELECT 1 + (x.a - 1) % :users, x.a, w.word || ' at ' || p.name, 4000, 3000, '{"camera":"Pixel 9"}', h.sha,
       'image/jpeg', 3500000, 'hidden', now() - make_interval(secs => :photos - g), now(),
       lower(w.word) || ' at ' || lower(p.name), 1, CASE WHEN g % 10 = 0 THEN 1 ELSE 0 END
FROM generate_series(1, :photos) g
CROSS JOIN LATERAL (SELECT 1 + (g - 1) % :albums AS a, (g - 1) / :albums AS j) x
JOIN hot h ON h.k = (x.a * 7 + x.j) % :hot
JOIN paras p ON p.i = (1 + (x.a - 1) % :pandals) % 40
JOIN words w ON w.i = g % 10;

INSERT INTO likes (photo_id, user_id, created_at) SELECT id, 1 + (id * 13) % :users, now() FROM photos;
INSERT INTO comments (photo_id, author_id, body, created_at)
SELECT id, 1 + (id * 7) % :users, 'Sundor!', now() FROM photos WHERE comment_count = 1;

SET session_replication_role = DEFAULT;
