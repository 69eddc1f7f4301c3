-- Counts kept on the rows they describe, so lists never count: a busy album's photo
-- count, a popular photo's likes. Triggers keep them exact in the same transaction as
-- the change.
ALTER TABLE albums ADD COLUMN photo_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE photos ADD COLUMN like_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE photos ADD COLUMN comment_count INTEGER NOT NULL DEFAULT 0;

UPDATE albums SET photo_count = (SELECT count(*) FROM photos p WHERE p.album_id = albums.id);
UPDATE photos SET like_count = (SELECT count(*) FROM likes l WHERE l.photo_id = photos.id),
                  comment_count = (SELECT count(*) FROM comments c WHERE c.photo_id = photos.id);

CREATE TRIGGER photos_count_insert AFTER INSERT ON photos BEGIN
    UPDATE albums SET photo_count = photo_count + 1 WHERE id = new.album_id;
END;
CREATE TRIGGER photos_count_delete AFTER DELETE ON photos BEGIN
    UPDATE albums SET photo_count = photo_count - 1 WHERE id = old.album_id;
END;
CREATE TRIGGER photos_count_move AFTER UPDATE OF album_id ON photos WHEN old.album_id IS NOT new.album_id BEGIN
    UPDATE albums SET photo_count = photo_count + 1 WHERE id = new.album_id;
    UPDATE albums SET photo_count = photo_count - 1 WHERE id = old.album_id;
END;
CREATE TRIGGER likes_count_insert AFTER INSERT ON likes BEGIN
    UPDATE photos SET like_count = like_count + 1 WHERE id = new.photo_id;
END;
CREATE TRIGGER likes_count_delete AFTER DELETE ON likes BEGIN
    UPDATE photos SET like_count = like_count - 1 WHERE id = old.photo_id;
END;
CREATE TRIGGER comments_count_insert AFTER INSERT ON comments BEGIN
    UPDATE photos SET comment_count = comment_count + 1 WHERE id = new.photo_id;
END;
CREATE TRIGGER comments_count_delete AFTER DELETE ON comments BEGIN
    UPDATE photos SET comment_count = comment_count - 1 WHERE id = old.photo_id;
END;
