//! Pandals, albums, photos, comments, likes and search: the database contract, written
//! once and run against SQLite and PostgreSQL.

use crate::common;

use common::db::{Backend, fresh};
use pujo::db::{
    AlbumPatch, Announced, Comment, Database, DbError, GpsPrivacy, NOBODY, NewAlbum, NewPandal, NewPhoto, NewUser,
    PageRequest, PandalPatch, PhotoPatch, User, Visibility,
};

per_backend!(Backend { sqlite: Sqlite, postgres: Postgres } [
    private_albums_are_invisible_to_everyone_but_their_owner,
    unlisted_albums_open_by_their_link_key_alone_and_are_never_listed_or_searched,
    keyset_pages_have_no_duplicates_or_gaps_under_inserts,
    search_matches_word_prefixes_in_bengali_and_english,
    searching_for_a_huge_word_is_an_answer_not_an_error,
    search_finds_old_matches_behind_newer_photos,
    a_pandals_feed_is_its_newest_photos_across_its_albums,
    likes_are_idempotent_and_counted,
    a_like_or_comment_on_a_deleted_photo_is_gone_and_still_announced,
    comments_page_newest_first_and_go_with_their_photo,
    the_same_content_twice_in_one_album_is_one_photo,
    album_covers_must_be_photos_of_the_album,
    a_cover_moved_into_a_private_album_leaves_the_old_album,
    deleting_a_person_deletes_everything_they_own,
    pandals_filter_by_city_and_year_and_are_unique_per_year,
    an_upload_and_a_deletion_of_the_same_bytes_never_overlap,
    a_deletion_waits_for_every_upload_of_its_bytes,
]);

struct World {
    db: Database,
    _t: common::db::TestDb,
}

async fn world(backend: Backend) -> World {
    let t = fresh(backend, &[]).await;
    let db = Database::open(&t.config.db, &t.config.data_dir).await.expect("open");
    db.migrate().await.expect("migrate");
    World { db, _t: t }
}

impl World {
    async fn person(&self, name: &str) -> User {
        self.db
            .create_user(&NewUser {
                username: name.to_owned(),
                email: format!("{name}@pujo.example"),
                display_name: name.to_owned(),
                password_hash: "x".to_owned(),
            })
            .await
            .expect("user")
    }

    async fn album(&self, owner: &User, title: &str, visibility: Visibility) -> i64 {
        let new = NewAlbum {
            owner_id: owner.id,
            title: title.to_owned(),
            description: String::new(),
            visibility,
            pandal_id: None,
            link_key: pujo::auth::random_key(),
        };
        self.db.create_album(&new).await.expect("album").id
    }

    async fn photo(&self, owner: &User, album: i64, caption: &str) -> i64 {
        self.db.create_photo(&new_photo(owner, album, caption, caption.as_bytes())).await.expect("photo").id
    }

    /// A like as the API makes it, with its announcement; the like's outcome.
    async fn like(&self, photo: i64, user: &User, liked: bool) -> Result<(i64, bool), DbError> {
        self.announced(self.db.set_like(photo, user.id, liked, &format!("c{photo}")).await.expect("sent"))
    }

    async fn comment(&self, photo: i64, user: &User, text: &str) -> Result<Comment, DbError> {
        self.announced(self.db.create_comment(photo, user.id, text, &format!("c{photo}")).await.expect("sent"))
    }

    /// The write's outcome, once its announcement is checked: a number from PostgreSQL,
    /// none from SQLite (whose process is the only one).
    fn announced<T>(&self, done: Announced<T>) -> Result<T, DbError> {
        let number = done.note.expect("announced");
        assert_eq!(number.is_some(), matches!(self.db, Database::Postgres(_)), "{number:?}");
        done.write
    }
}

fn new_photo(owner: &User, album: i64, caption: &str, content: &[u8]) -> NewPhoto {
    use sha2::Digest;
    NewPhoto {
        owner_id: owner.id,
        album_id: album,
        caption: caption.to_owned(),
        width: 4000,
        height: 3000,
        taken_at: None,
        exif: serde_json::json!({"camera": "Pixel"}),
        sha256: sha2::Sha256::digest(content).to_vec(),
        content_type: "image/jpeg".to_owned(),
        byte_size: 1234,
        thumbhash: Some(vec![1, 2, 3]),
        gps_privacy: GpsPrivacy::Hidden,
        lat: Some(22.6),
        lon: Some(88.36),
    }
}

fn first(limit: usize) -> PageRequest {
    PageRequest { before: None, limit }
}

async fn private_albums_are_invisible_to_everyone_but_their_owner(backend: Backend) {
    let w = world(backend).await;
    let (owner, other) = (w.person("uma").await, w.person("shiva").await);
    let album = w.album(&owner, "Ghorer pujo", Visibility::Private).await;
    let photo = w.photo(&owner, album, "thakur ghor").await;

    for viewer in [other.id, NOBODY] {
        assert!(w.db.album(album, viewer, None).await.expect("album").is_none());
        assert!(w.db.photo(photo, viewer, None).await.expect("photo").is_none());
        assert!(w.db.album_photos(album, viewer, None, first(10)).await.expect("photos").items.is_empty());
        assert!(w.db.albums(viewer, None, None, first(10)).await.expect("albums").items.is_empty());
        assert!(w.db.albums(viewer, Some(owner.id), None, first(10)).await.expect("albums").items.is_empty());
        assert!(w.db.photo_feed(viewer, None, first(10)).await.expect("feed").items.is_empty());
        let hits = w.db.search(viewer, "thakur", 10).await.expect("search");
        assert!(hits.photos.is_empty() && hits.albums.is_empty());
        assert!(w.db.search(viewer, "ghorer", 10).await.expect("search").albums.is_empty());
    }
    // The owner sees it everywhere but the public feed.
    assert_eq!(w.db.album(album, owner.id, None).await.expect("album").expect("own").photo_count, 1);
    assert_eq!(w.db.photo(photo, owner.id, None).await.expect("photo").expect("own").visibility, Visibility::Private);
    assert_eq!(w.db.albums(owner.id, Some(owner.id), None, first(10)).await.expect("albums").items.len(), 1);
    assert_eq!(w.db.search(owner.id, "thakur", 10).await.expect("search").photos.len(), 1);
    assert!(w.db.photo_feed(owner.id, None, first(10)).await.expect("feed").items.is_empty());
}

/// Ids are sequential, so an id alone never opens an unlisted album: its link key does
/// (until the owner rotates it), and it is never listed or searched.
async fn unlisted_albums_open_by_their_link_key_alone_and_are_never_listed_or_searched(backend: Backend) {
    let w = world(backend).await;
    let (owner, other) = (w.person("lakshmi").await, w.person("kartik").await);
    let album = w.album(&owner, "Bhog for friends", Visibility::Unlisted).await;
    let photo = w.photo(&owner, album, "khichuri bhog").await;
    let public = w.album(&owner, "Bhog for all", Visibility::Public).await;
    let key = w.db.album(album, owner.id, None).await.expect("album").expect("own").link_key;
    assert_eq!(key.len(), 32, "128 bits as hex: {key}");
    assert_ne!(key, w.db.album(public, owner.id, None).await.expect("album").expect("own").link_key);

    for viewer in [other.id, NOBODY] {
        assert!(w.db.album(album, viewer, None).await.expect("album").is_none());
        assert!(w.db.photo(photo, viewer, None).await.expect("photo").is_none());
        assert!(w.db.album_photos(album, viewer, None, first(5)).await.expect("photos").items.is_empty());
        // The key with its last digit changed (a near miss, never the key itself).
        let last = if key.ends_with('0') { '1' } else { '0' };
        let wrong = format!("{}{last}", &key[..31]);
        assert!(w.db.album(album, viewer, Some(&wrong)).await.expect("album").is_none());
        assert!(w.db.album(album, viewer, Some("")).await.expect("album").is_none());
        assert!(w.db.album(album, viewer, Some(&key)).await.expect("album").is_some());
        assert!(w.db.photo(photo, viewer, Some(&key)).await.expect("photo").is_some());
        assert_eq!(w.db.album_photos(album, viewer, Some(&key), first(5)).await.expect("photos").items.len(), 1);
    }
    // Another album's key opens nothing else.
    let other_key = w.db.album(public, owner.id, None).await.expect("album").expect("own").link_key;
    assert!(w.db.album(album, other.id, Some(&other_key)).await.expect("album").is_none());
    // A private album's key opens nothing: private is the owner's alone.
    let private = w.album(&owner, "Thakur ghor", Visibility::Private).await;
    let private_key = w.db.album(private, owner.id, None).await.expect("album").expect("own").link_key;
    assert!(w.db.album(private, other.id, Some(&private_key)).await.expect("album").is_none());
    // A rotated key retires the old link.
    w.db.set_album_link(album, &pujo::auth::random_key()).await.expect("rotate");
    assert!(w.db.album(album, other.id, Some(&key)).await.expect("album").is_none());

    let listed = w.db.albums(other.id, None, None, first(10)).await.expect("albums");
    assert_eq!(listed.items.iter().map(|a| a.id).collect::<Vec<_>>(), [public]);
    assert!(w.db.photo_feed(NOBODY, None, first(10)).await.expect("feed").items.is_empty());
    let hits = w.db.search(other.id, "bhog", 10).await.expect("search");
    assert!(hits.photos.is_empty());
    assert_eq!(hits.albums.iter().map(|a| a.id).collect::<Vec<_>>(), [public]);
}

async fn keyset_pages_have_no_duplicates_or_gaps_under_inserts(backend: Backend) {
    let w = world(backend).await;
    let owner = w.person("ganesh").await;
    let album = w.album(&owner, "Bisorjon", Visibility::Public).await;
    let mut expected = Vec::new();
    for i in 0..25 {
        expected.push(w.photo(&owner, album, &format!("ghat {i}")).await);
    }
    expected.reverse();
    let mut seen = Vec::new();
    let mut page = first(7);
    loop {
        let got = w.db.album_photos(album, NOBODY, None, page).await.expect("page");
        seen.extend(got.items.iter().map(|p| p.id));
        // Newer photos arriving between pages do not shift the pages already underway.
        w.photo(&owner, album, &format!("late {}", seen.len())).await;
        match got.next {
            Some(next) => page = PageRequest { before: Some(next), limit: 7 },
            None => break,
        }
    }
    assert_eq!(seen, expected);
    let feed = w.db.photo_feed(NOBODY, None, first(100)).await.expect("feed");
    let mut ids: Vec<i64> = feed.items.iter().map(|p| p.id).collect();
    let sorted = {
        let mut s = ids.clone();
        s.sort_unstable_by(|a, b| b.cmp(a));
        s
    };
    assert_eq!(ids, sorted, "newest first");
    ids.dedup();
    assert_eq!(ids.len(), 29);
}

async fn search_matches_word_prefixes_in_bengali_and_english(backend: Backend) {
    let w = world(backend).await;
    let owner = w.person("durga").await;
    let pandal = common::db::bagbazar_pandal(&w.db, "বাগবাজার সার্বজনীন").await;
    let album = w.album(&owner, "Shashthi night", Visibility::Public).await;
    let bengali = w.photo(&owner, album, "দুর্গাপূজার সন্ধ্যা আরতি").await;
    let english = w.photo(&owner, album, "Dhunuchi NAACH at the Ghat").await;
    let sql = w.photo(&owner, album, "'); DROP TABLE photos; -- \"quoted\" OR NOT").await;

    let ids = |hits: &pujo::db::SearchHits| hits.photos.iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(ids(&w.db.search(NOBODY, "দুর্গা", 10).await.expect("bn")), [bengali]);
    assert_eq!(ids(&w.db.search(NOBODY, "আরতি সন্ধ্যা", 10).await.expect("bn words")), [bengali]);
    assert_eq!(ids(&w.db.search(NOBODY, "dhunu ghat", 10).await.expect("en prefix")), [english]);
    assert_eq!(ids(&w.db.search(NOBODY, "naach", 10).await.expect("case")), [english]);
    assert!(ids(&w.db.search(NOBODY, "naach আরতি", 10).await.expect("all words")).is_empty());
    assert_eq!(ids(&w.db.search(NOBODY, "drop table", 10).await.expect("sql")), [sql]);
    assert_eq!(ids(&w.db.search(NOBODY, "\"quoted\" OR", 10).await.expect("syntax")), [sql]);
    assert!(w.db.search(NOBODY, " ;:!? ", 10).await.expect("no words").photos.is_empty());
    let pandals = w.db.search(NOBODY, "বাগবাজার 2026", 10).await.expect("pandal").pandals;
    assert_eq!(pandals.iter().map(|p| p.id).collect::<Vec<_>>(), [pandal]);
    assert_eq!(w.db.search(NOBODY, "kolk", 10).await.expect("city").pandals.len(), 1);
    assert_eq!(w.db.search(NOBODY, "shashthi", 10).await.expect("album").albums.len(), 1);
}

/// Search walks the newest photos and albums first and falls back to the word index
/// when they do not fill the page: the answer is the same whichever way it was found.
async fn search_finds_old_matches_behind_newer_photos(backend: Backend) {
    let w = world(backend).await;
    let (owner, other) = (w.person("kartik").await, w.person("ganesh").await);
    let public = w.album(&owner, "Dashami", Visibility::Public).await;
    let private = w.album(&owner, "Ghore", Visibility::Private).await;
    let old = w.photo(&owner, public, "sindoor khela").await;
    let hidden = w.photo(&owner, private, "sindoor at home").await;
    let old_album = w.album(&owner, "Sindoor khela", Visibility::Public).await;
    let hidden_album = w.album(&owner, "Sindoor ghore", Visibility::Private).await;
    let (mut dhak, mut dhak_albums) = (Vec::new(), Vec::new());
    for i in 0..6 {
        dhak.push(w.photo(&owner, public, &format!("dhak {i}")).await);
        dhak_albums.push(w.album(&owner, &format!("Dhak {i}"), Visibility::Public).await);
    }
    dhak.reverse();
    dhak_albums.reverse();
    let ids = |hits: pujo::db::SearchHits| hits.photos.iter().map(|p| p.id).collect::<Vec<_>>();
    let album_ids = |hits: pujo::db::SearchHits| hits.albums.iter().map(|a| a.id).collect::<Vec<_>>();
    for newest in [1, 3, 100, pujo::db::SEARCH_NEWEST] {
        let search = |viewer: i64, q: &'static str, limit: usize| {
            let db = &w.db;
            async move { ids(db.search_newest_first(viewer, q, limit, newest).await.expect("search")) }
        };
        let albums = |viewer: i64, q: &'static str, limit: usize| {
            let db = &w.db;
            async move { album_ids(db.search_newest_first(viewer, q, limit, newest).await.expect("search")) }
        };
        assert_eq!(albums(NOBODY, "sindoor", 10).await, [old_album], "newest {newest}");
        assert_eq!(albums(other.id, "sindoor", 10).await, [old_album], "newest {newest}");
        assert_eq!(albums(owner.id, "sindoor", 10).await, [hidden_album, old_album], "newest {newest}");
        assert!(albums(NOBODY, "sindoor dhak", 10).await.is_empty(), "newest {newest}");
        assert_eq!(albums(NOBODY, "dhak", 2).await, dhak_albums[..2], "newest {newest}");
        assert_eq!(albums(NOBODY, "dhak", 10).await, dhak_albums, "newest {newest}");
        // Only past the newest photos, or nowhere.
        assert_eq!(search(NOBODY, "sindoor", 10).await, [old], "newest {newest}");
        assert_eq!(search(other.id, "sindoor", 10).await, [old], "newest {newest}");
        assert_eq!(search(owner.id, "sindoor", 10).await, [hidden, old], "newest {newest}");
        assert!(search(NOBODY, "sindoor dhak", 10).await.is_empty(), "newest {newest}");
        assert!(search(NOBODY, "visarjan", 10).await.is_empty(), "newest {newest}");
        // Among the newest, and more of them than fit.
        assert_eq!(search(NOBODY, "dhak", 2).await, dhak[..2], "newest {newest}");
        assert_eq!(search(NOBODY, "dhak", 10).await, dhak, "newest {newest}");
    }
}

/// A pandal's feed: the newest photos of its albums the viewer may list, newest first
/// across albums, page after page without duplicates or gaps.
async fn a_pandals_feed_is_its_newest_photos_across_its_albums(backend: Backend) {
    let w = world(backend).await;
    let (owner, other) = (w.person("asur").await, w.person("mahish").await);
    let pandal = |name: &str| NewPandal {
        name: name.to_owned(),
        para: "Kumartuli".to_owned(),
        city: "Kolkata".to_owned(),
        year: 2026,
        lat: None,
        lon: None,
        created_by: None,
    };
    let here = w.db.create_pandal(&pandal("Kumartuli Park")).await.expect("pandal").id;
    let there = w.db.create_pandal(&pandal("Ahiritola")).await.expect("pandal").id;
    let mut albums = Vec::new();
    for (title, visibility, pandal) in [
        ("Saptami", Visibility::Public, here),
        ("Ashtami", Visibility::Public, here),
        ("Mine", Visibility::Private, here),
        ("Elsewhere", Visibility::Public, there),
    ] {
        let id = w.album(&owner, title, visibility).await;
        let patch = AlbumPatch { pandal_id: Some(Some(pandal)), ..Default::default() };
        let album = w.db.album(id, owner.id, None).await.expect("album").expect("own album");
        w.db.update_album(&album, patch).await.expect("pandal set");
        albums.push(id);
    }
    // Photos interleaved over the albums, so that the newest come from each in turn.
    let (mut public, mut all) = (Vec::new(), Vec::new());
    for i in 0..7 {
        for (k, album) in albums.iter().enumerate() {
            let id = w.photo(&owner, *album, &format!("photo {i} of {k}")).await;
            if k < 2 {
                public.push(id);
            }
            if k < 3 {
                all.push(id);
            }
        }
    }
    public.reverse();
    all.reverse();
    for (viewer, expected) in [(NOBODY, &public), (other.id, &public), (owner.id, &all)] {
        for limit in [1, 3, 5, 48] {
            let mut seen = Vec::new();
            let mut before = None;
            loop {
                let page = w.db.photo_feed(viewer, Some(here), PageRequest { before, limit }).await.expect("feed");
                assert!(page.items.len() <= limit);
                seen.extend(page.items.iter().map(|p| p.id));
                match page.next {
                    Some(next) => before = Some(next),
                    None => break,
                }
            }
            assert_eq!(&seen, expected, "viewer {viewer}, pages of {limit}");
        }
    }
}

/// A 200-character query that NFKC expands past 2 KB (U+FDFA is eighteen characters
/// once normalised) was a 500 on PostgreSQL; a long word in a title was cut silently.
async fn searching_for_a_huge_word_is_an_answer_not_an_error(backend: Backend) {
    let w = world(backend).await;
    let owner = w.person("shashthi").await;
    let long = "দুর্গা".repeat(100);
    let album = w.album(&owner, &long, Visibility::Public).await;
    let hits = w.db.search(NOBODY, &"\u{FDFA}".repeat(200), 10).await.expect("an answer");
    assert!(hits.albums.is_empty());
    let found = w.db.search(NOBODY, &long, 10).await.expect("search");
    assert_eq!(found.albums.iter().map(|a| a.id).collect::<Vec<_>>(), [album], "the long word finds its album");
}

async fn likes_are_idempotent_and_counted(backend: Backend) {
    let w = world(backend).await;
    let (owner, a, b) = (w.person("saraswati").await, w.person("a_fan").await, w.person("b_fan").await);
    let album = w.album(&owner, "Anjali", Visibility::Public).await;
    let photo = w.photo(&owner, album, "pushpanjali").await;
    assert_eq!(w.like(photo, &a, true).await.expect("like"), (1, true));
    assert_eq!(w.like(photo, &a, true).await.expect("again"), (1, true));
    assert_eq!(w.like(photo, &b, true).await.expect("like"), (2, true));
    let seen_by_a = w.db.photo(photo, a.id, None).await.expect("photo").expect("visible");
    assert_eq!((seen_by_a.like_count, seen_by_a.liked_by_me), (2, true));
    let seen_by_owner = w.db.photo(photo, owner.id, None).await.expect("photo").expect("visible");
    assert!(!seen_by_owner.liked_by_me);
    assert_eq!(w.like(photo, &a, false).await.expect("unlike"), (1, false));
    assert_eq!(w.like(photo, &a, false).await.expect("unlike again"), (1, false));
    let seen_by_b = w.db.photo(photo, b.id, None).await.expect("photo").expect("visible");
    assert_eq!((seen_by_b.like_count, seen_by_b.liked_by_me), (1, true), "the count stored is the count answered");
}

/// A photo deleted between the check that it is visible and the write: the write is
/// `Gone` (a 404), nothing is left behind, and the announcement is made all the same.
async fn a_like_or_comment_on_a_deleted_photo_is_gone_and_still_announced(backend: Backend) {
    let w = world(backend).await;
    let (owner, fan) = (w.person("kartik").await, w.person("ganesh").await);
    let album = w.album(&owner, "Bisarjan", Visibility::Public).await;
    let photo = w.photo(&owner, album, "ghat").await;
    assert!(w.db.delete_photo(photo).await.expect("delete"));
    assert!(matches!(w.like(photo, &fan, true).await, Err(DbError::Gone)));
    assert!(matches!(w.like(photo, &fan, false).await, Err(DbError::Gone)));
    assert!(matches!(w.comment(photo, &fan, "too late").await, Err(DbError::Gone)));
    let left = w.db.personal_data(fan.id).await.expect("their data");
    assert!(left.comments.is_empty() && left.likes.is_empty());
}

async fn comments_page_newest_first_and_go_with_their_photo(backend: Backend) {
    let w = world(backend).await;
    let (owner, guest) = (w.person("asur").await, w.person("mahish").await);
    let album = w.album(&owner, "Sandhi puja", Visibility::Public).await;
    let photo = w.photo(&owner, album, "108 lamps").await;
    let mut ids = Vec::new();
    for text in ["প্রথম", "🙏🪔", "Robert'); DROP TABLE comments;--"] {
        let c = w.comment(photo, &guest, text).await.expect("comment");
        assert_eq!(c.body, text);
        assert_eq!(c.author.username, "mahish");
        ids.push(c.id);
    }
    let page = w.db.comments(photo, first(2)).await.expect("page");
    assert_eq!(page.items.iter().map(|c| c.id).collect::<Vec<_>>(), [ids[2], ids[1]]);
    let rest = w.db.comments(photo, PageRequest { before: page.next, limit: 2 }).await.expect("page 2");
    assert_eq!(rest.items.iter().map(|c| c.id).collect::<Vec<_>>(), [ids[0]]);
    assert_eq!(rest.next, None);
    assert_eq!(w.db.photo(photo, NOBODY, None).await.expect("photo").expect("visible").comment_count, 3);
    assert!(w.db.delete_comment(ids[0]).await.expect("delete"));
    assert!(!w.db.delete_comment(ids[0]).await.expect("delete again"));
    assert!(w.db.delete_photo(photo).await.expect("delete photo"));
    assert!(w.db.comment(ids[1]).await.expect("lookup").is_none(), "comments go with their photo");
}

async fn the_same_content_twice_in_one_album_is_one_photo(backend: Backend) {
    let w = world(backend).await;
    let owner = w.person("nandi").await;
    let (one, two) =
        (w.album(&owner, "One", Visibility::Public).await, w.album(&owner, "Two", Visibility::Public).await);
    let (first_upload, second_upload) =
        (new_photo(&owner, one, "first", b"same bytes"), new_photo(&owner, one, "second", b"same bytes"));
    let (a, b) = tokio::join!(w.db.create_photo(&first_upload), w.db.create_photo(&second_upload));
    assert_eq!(a.expect("a").id, b.expect("b").id);
    assert_eq!(w.db.album(one, owner.id, None).await.expect("album").expect("own").photo_count, 1);
    let elsewhere = w.db.create_photo(&new_photo(&owner, two, "copy", b"same bytes")).await.expect("other album");
    // Moving it next to its twin is refused, and nothing changes.
    let moved = w.db.update_photo(&elsewhere, PhotoPatch { album_id: Some(one), ..PhotoPatch::default() }).await;
    assert!(matches!(moved, Err(DbError::Conflict { field: "album_id" })), "{moved:?}");
    assert_eq!(w.db.photo(elsewhere.id, owner.id, None).await.expect("photo").expect("own").album_id, two);
}

async fn album_covers_must_be_photos_of_the_album(backend: Backend) {
    let w = world(backend).await;
    let owner = w.person("jaya").await;
    let (one, two) =
        (w.album(&owner, "One", Visibility::Public).await, w.album(&owner, "Two", Visibility::Public).await);
    let older = w.photo(&owner, one, "older").await;
    let newer = w.photo(&owner, one, "newer").await;
    let foreign = w.photo(&owner, two, "foreign").await;
    let album = w.db.album(one, NOBODY, None).await.expect("album").expect("public");
    assert_eq!(album.cover.as_ref().map(|c| c.id), Some(newer), "the newest photo by default");
    let chosen =
        w.db.update_album(&album, AlbumPatch { cover_photo_id: Some(Some(older)), ..AlbumPatch::default() })
            .await
            .expect("choose");
    assert_eq!(chosen.cover.as_ref().map(|c| c.id), Some(older));
    let renamed =
        w.db.update_album(&chosen, AlbumPatch { title: Some("Ek".to_owned()), ..AlbumPatch::default() })
            .await
            .expect("rename");
    assert_eq!((renamed.title.as_str(), renamed.cover.as_ref().map(|c| c.id)), ("Ek", Some(older)));
    let refused =
        w.db.update_album(&renamed, AlbumPatch { cover_photo_id: Some(Some(foreign)), ..AlbumPatch::default() })
            .await
            .expect("update");
    assert_eq!(refused.cover.as_ref().map(|c| c.id), Some(newer), "a foreign photo is no cover");

    // Counts follow moves and deletions.
    let moving = w.db.photo(foreign, owner.id, None).await.expect("photo").expect("own");
    w.db.update_photo(&moving, PhotoPatch { album_id: Some(one), ..PhotoPatch::default() }).await.expect("move");
    let count = |album: Option<pujo::db::Album>| album.expect("own").photo_count;
    assert_eq!(count(w.db.album(one, owner.id, None).await.expect("album")), 3);
    assert_eq!(count(w.db.album(two, owner.id, None).await.expect("album")), 0);
    w.db.delete_photo(older).await.expect("delete");
    assert_eq!(count(w.db.album(one, owner.id, None).await.expect("album")), 2);
}

/// The chosen cover moves to a private album: the public album it left must not
/// show it (its id, size and thumbhash were visible to anyone).
async fn a_cover_moved_into_a_private_album_leaves_the_old_album(backend: Backend) {
    let w = world(backend).await;
    let owner = w.person("uma").await;
    let public = w.album(&owner, "Open", Visibility::Public).await;
    let private = w.album(&owner, "Closed", Visibility::Private).await;
    let stays = w.photo(&owner, public, "stays").await;
    let secret = w.photo(&owner, public, "secret").await;
    let album = w.db.album(public, owner.id, None).await.expect("album").expect("own");
    w.db.update_album(&album, AlbumPatch { cover_photo_id: Some(Some(secret)), ..AlbumPatch::default() })
        .await
        .expect("choose");
    let moving = w.db.photo(secret, owner.id, None).await.expect("photo").expect("own");
    w.db.update_photo(&moving, PhotoPatch { album_id: Some(private), ..PhotoPatch::default() }).await.expect("move");
    for viewer in [NOBODY, owner.id] {
        let seen = w.db.album(public, viewer, None).await.expect("album").expect("public");
        assert_eq!(seen.cover.as_ref().map(|c| c.id), Some(stays), "viewer {viewer}: the moved photo is no cover here");
        let listed = w.db.albums(viewer, Some(owner.id), None, first(10)).await.expect("list");
        let open = listed.items.iter().find(|a| a.id == public).expect("listed");
        assert_eq!(open.cover.as_ref().map(|c| c.id), Some(stays), "viewer {viewer}: lists agree");
    }
    let closed = w.db.album(private, NOBODY, None).await.expect("album");
    assert!(closed.is_none(), "the private album stays invisible");
}

async fn deleting_a_person_deletes_everything_they_own(backend: Backend) {
    let w = world(backend).await;
    let (gone, stays) = (w.person("mahishasura").await, w.person("durga").await);
    let album = w.album(&gone, "Mine", Visibility::Public).await;
    let photo = w.photo(&gone, album, "buffalo").await;
    let other_album = w.album(&stays, "Hers", Visibility::Public).await;
    let other_photo = w.photo(&stays, other_album, "trishul").await;
    let comment = w.comment(other_photo, &gone, "I will be back").await.expect("comment");
    w.like(other_photo, &gone, true).await.expect("like");
    w.db.create_session(b"gone-session", gone.id, std::time::Duration::from_secs(60), "").await.expect("session");

    let hashes = w.db.delete_user(gone.id).await.expect("delete");
    assert_eq!(hashes.len(), 1);
    assert!(w.db.user_by_id(gone.id).await.expect("user").is_none());
    assert!(w.db.album(album, gone.id, None).await.expect("album").is_none());
    assert!(w.db.photo(photo, gone.id, None).await.expect("photo").is_none());
    assert!(w.db.comment(comment.id).await.expect("comment").is_none());
    assert!(
        w.db.session_user(b"gone-session", std::time::Duration::from_secs(60), std::time::Duration::from_secs(3600))
            .await
            .expect("s")
            .is_none()
    );
    let theirs = w.db.photo(other_photo, NOBODY, None).await.expect("photo").expect("stays");
    assert_eq!((theirs.like_count, theirs.comment_count), (0, 0));
}

async fn pandals_filter_by_city_and_year_and_are_unique_per_year(backend: Backend) {
    let w = world(backend).await;
    let admin = w.person("admin").await;
    let make = |name: &str, city: &str, year: i64| NewPandal {
        name: name.to_owned(),
        para: String::new(),
        city: city.to_owned(),
        year,
        lat: Some(22.57),
        lon: Some(88.36),
        created_by: Some(admin.id),
    };
    let a = w.db.create_pandal(&make("Santosh Mitra Square", "Kolkata", 2025)).await.expect("a");
    let b = w.db.create_pandal(&make("Santosh Mitra Square", "Kolkata", 2026)).await.expect("b");
    let c = w.db.create_pandal(&make("CR Park Mela Ground", "Delhi", 2026)).await.expect("c");
    let dup = w.db.create_pandal(&make("santosh mitra square", "KOLKATA", 2026)).await;
    assert!(matches!(dup, Err(DbError::Conflict { field: "name" })), "{dup:?}");

    let ids = |p: pujo::db::Page<pujo::db::Pandal>| p.items.iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(ids(w.db.pandals(None, None, first(10)).await.expect("all")), [c.id, b.id, a.id]);
    assert_eq!(ids(w.db.pandals(Some("kolkata"), None, first(10)).await.expect("city")), [b.id, a.id]);
    assert_eq!(ids(w.db.pandals(None, Some(2026), first(10)).await.expect("year")), [c.id, b.id]);
    assert_eq!(ids(w.db.pandals(Some("Delhi"), Some(2025), first(10)).await.expect("none")), Vec::<i64>::new());
    let facets = w.db.pandal_facets().await.expect("facets");
    assert_eq!(facets.cities, [("Kolkata".to_owned(), 2), ("Delhi".to_owned(), 1)]);
    assert_eq!(facets.years, [(2026, 2), (2025, 1)]);

    let album = NewAlbum {
        owner_id: admin.id,
        title: "Theme pandal".to_owned(),
        description: String::new(),
        visibility: Visibility::Public,
        pandal_id: Some(b.id),
        link_key: pujo::auth::random_key(),
    };
    let album = w.db.create_album(&album).await.expect("album");
    assert_eq!(album.pandal.as_ref().map(|p| p.year), Some(2026));
    assert_eq!(w.db.pandal(b.id).await.expect("pandal").expect("exists").album_count, 1);
    let moved =
        w.db.update_pandal(&b, PandalPatch { lat: Some(None), name: Some("SMS".to_owned()), ..PandalPatch::default() })
            .await
            .expect("update");
    assert_eq!((moved.name.as_str(), moved.lat, moved.lon), ("SMS", None, Some(88.36)));
    assert_eq!(w.db.search(NOBODY, "sms", 5).await.expect("search").pandals.len(), 1);
}

/// The interleavings of an upload (which may skip writing a blob that exists) and a
/// deletion of the same bytes (gc, an account's clean-up): whichever comes first, the
/// other waits, and no photo row is ever left without its blobs.
async fn an_upload_and_a_deletion_of_the_same_bytes_never_overlap(backend: Backend) {
    use sha2::Digest;
    let w = world(backend).await;
    let owner = w.person("kumartuli").await;
    let album = w.album(&owner, "Idols", Visibility::Public).await;
    let hash = sha2::Sha256::digest(b"clay").to_vec();

    // Upload first: the deletion may not start until the upload lets go, and by then
    // the row is there, so it must not start at all.
    assert!(w.db.claim_content(&hash).await.expect("claim"));
    assert!(!w.db.begin_content_deletion(&hash).await.expect("begin"), "an upload holds the bytes");
    w.db.create_photo(&new_photo(&owner, album, "idol", b"clay")).await.expect("row");
    w.db.release_content(&hash).await.expect("release");
    assert!(!w.db.begin_content_deletion(&hash).await.expect("begin"), "a photo has the bytes");
    // ...and that refusal left nothing behind: uploads of it go on.
    assert!(w.db.claim_content(&hash).await.expect("claim again"));
    w.db.release_content(&hash).await.expect("release");

    // Deletion first: uploads of those bytes wait until it has ended (then write the
    // blobs again, since they are gone).
    let loose = sha2::Sha256::digest(b"straw").to_vec();
    assert!(w.db.begin_content_deletion(&loose).await.expect("begin"), "nothing uses these bytes");
    assert!(!w.db.claim_content(&loose).await.expect("claim"), "a deletion is under way");
    assert!(!w.db.begin_content_deletion(&loose).await.expect("begin"), "one deletion at a time");
    w.db.end_content_deletion(&loose).await.expect("end");
    assert!(w.db.claim_content(&loose).await.expect("claim after"), "the upload goes on once it ended");
    w.db.release_content(&loose).await.expect("release");
    assert!(w.db.begin_content_deletion(&loose).await.expect("begin"), "released and unused: deletable");
    w.db.end_content_deletion(&loose).await.expect("end");
}

async fn a_deletion_waits_for_every_upload_of_its_bytes(backend: Backend) {
    use sha2::Digest;
    let w = world(backend).await;
    let hash = sha2::Sha256::digest(b"shola").to_vec();
    // Two uploads of the same bytes at once (two people, or a retry).
    assert!(w.db.claim_content(&hash).await.expect("first"));
    assert!(w.db.claim_content(&hash).await.expect("second"));
    w.db.release_content(&hash).await.expect("first done");
    assert!(!w.db.begin_content_deletion(&hash).await.expect("begin"), "the second still holds it");
    w.db.release_content(&hash).await.expect("second done");
    assert!(w.db.begin_content_deletion(&hash).await.expect("begin"));
    w.db.end_content_deletion(&hash).await.expect("end");
    // Holds taken at the same moment as a deletion: exactly one side wins each time.
    let other = sha2::Sha256::digest(b"dhak").to_vec();
    for _ in 0..20 {
        let (claimed, deleting) = tokio::join!(w.db.claim_content(&other), w.db.begin_content_deletion(&other));
        let (claimed, deleting) = (claimed.expect("claim"), deleting.expect("begin"));
        assert!(claimed != deleting, "claimed {claimed}, deleting {deleting}");
        if claimed {
            w.db.release_content(&other).await.expect("release");
        } else {
            w.db.end_content_deletion(&other).await.expect("end");
        }
    }
}
