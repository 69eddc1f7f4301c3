-- A pandal's count of public albums (on its page and in every search that finds it)
-- from the index alone: with only albums_pandal each counted album's row was read for
-- its visibility, about a thousand pages for a page of twenty pandals of fifty albums.
CREATE INDEX albums_pandal_public ON albums (pandal_id) WHERE visibility = 'public';
