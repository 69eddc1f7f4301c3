-- Counts kept on the rows they describe, so lists never count: a busy album's photo
-- count, a popular photo's likes. Triggers keep them exact in the same transaction as
-- the change.
ALTER TABLE albums ADD COLUMN photo_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE photos ADD COLUMN like_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE photos ADD COLUMN comment_count BIGINT NOT NULL DEFAULT 0;

UPDATE albums a SET photo_count = (SELECT count(*) FROM photos p WHERE p.album_id = a.id);
UPDATE photos p SET like_count = (SELECT count(*) FROM likes l WHERE l.photo_id = p.id),
                    comment_count = (SELECT count(*) FROM comments c WHERE c.photo_id = p.id);

CREATE FUNCTION pujo_count_photos() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE albums SET photo_count = photo_count + 1 WHERE id = NEW.album_id;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE albums SET photo_count = photo_count - 1 WHERE id = OLD.album_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER photos_count_insert_delete AFTER INSERT OR DELETE ON photos
    FOR EACH ROW EXECUTE FUNCTION pujo_count_photos();
CREATE TRIGGER photos_count_move AFTER UPDATE OF album_id ON photos
    FOR EACH ROW WHEN (OLD.album_id IS DISTINCT FROM NEW.album_id) EXECUTE FUNCTION pujo_count_photos();

CREATE FUNCTION pujo_count_likes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE photos SET like_count = like_count + 1 WHERE id = NEW.photo_id;
    ELSE
        UPDATE photos SET like_count = like_count - 1 WHERE id = OLD.photo_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER likes_count AFTER INSERT OR DELETE ON likes FOR EACH ROW EXECUTE FUNCTION pujo_count_likes();

CREATE FUNCTION pujo_count_comments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE photos SET comment_count = comment_count + 1 WHERE id = NEW.photo_id;
    ELSE
        UPDATE photos SET comment_count = comment_count - 1 WHERE id = OLD.photo_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER comments_count AFTER INSERT OR DELETE ON comments
    FOR EACH ROW EXECUTE FUNCTION pujo_count_comments();
