-- Resumable uploads on S3: the bytes of an unfinished upload live in the bucket, so
-- that any replica can take the next chunk. Chunks smaller than S3's 5 MiB part
-- minimum wait as small objects (`partial/<id>/s/<offset>`) until, together, they make
-- a part of the upload's multipart upload (`multipart`, the S3 upload id); `parted`
-- bytes are in parts, whose ETags are `part_tags` (one per line, in order). Once the
-- parts are joined (the last byte arrived) `multipart` is NULL and they are the
-- object `partial/<id>/parts`. On the local folder these stay empty: the partial file
-- holds everything.
--
-- One request at a time appends to an upload, on whatever replica: it holds the row's
-- claim (`claim`, a random token) until `claimed_until`, renewed while bytes arrive.
ALTER TABLE uploads ADD COLUMN parted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN part_tags TEXT NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN multipart TEXT;
ALTER TABLE uploads ADD COLUMN claim TEXT;
ALTER TABLE uploads ADD COLUMN claimed_until INTEGER;
