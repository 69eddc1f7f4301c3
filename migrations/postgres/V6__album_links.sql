-- An unlisted album opens only through its link: `link_key` is 128 random bits (32 hex
-- digits), made by Pujo for every new album and replaced when the owner rotates the
-- link. Album ids are sequential, so an id alone must never open an unlisted album.
-- Keys the database makes (for existing albums, and below) come from two
-- gen_random_uuid() (strong random, 244 bits), hashed and cut to 32 hex digits.
CREATE FUNCTION pujo_new_link_key() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT substr(encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex'), 1, 32)
$$;
ALTER TABLE albums ADD COLUMN link_key TEXT;
UPDATE albums SET link_key = pujo_new_link_key() WHERE link_key IS NULL;
CREATE UNIQUE INDEX albums_link_key ON albums (link_key);
-- An album inserted without a key (a replica still on the previous release during a
-- rolling deploy, a hand-written seed) gets one as it is inserted: none is without.
CREATE FUNCTION albums_link_key_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.link_key IS NULL THEN
        NEW.link_key := pujo_new_link_key();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER albums_link_key_fill BEFORE INSERT ON albums FOR EACH ROW EXECUTE FUNCTION albums_link_key_fill();
ALTER TABLE albums ALTER COLUMN link_key SET NOT NULL;
