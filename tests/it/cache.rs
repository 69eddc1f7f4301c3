//! The edge cache across replicas: two Pujo instances on one PostgreSQL and one
//! real redis-server. A write on one is read back from the other within a second,
//! private things never come out of a cache to the wrong person, Redis going away
//! costs nothing but speed, and a burst of misses loads once.

use crate::common;

use std::time::Duration;

use common::api::Api;
use common::db::{Backend, create_postgres_database, spawn_app_with_db};
use common::redis::RedisServer;
use common::{Answer, TestApp, eventually, get, metric, spawn_app_in, stop};
use http::StatusCode;
use serde_json::{Value, json};

per_backend!(Backend { sqlite: Sqlite, postgres: Postgres } [
    likes_and_comments_leave_other_lists_cached_and_show_in_theirs,
    an_album_made_private_leaves_every_cached_list_at_once,
    a_new_photo_retires_its_own_pandals_page_and_no_other,
    logged_in_searches_share_what_everyone_finds_and_add_their_own,
    logged_in_pandal_pages_share_what_everyone_sees_and_add_their_own,
    likes_and_comments_recount_shared_pages_and_leave_what_they_hold,
]);

/// One second, as the cache promises, measured from the write's answer.
const WITHIN: Duration = Duration::from_secs(1);

/// A replica on the shared database and Redis.
async fn replica(db_url: &str, redis: &RedisServer, extra: &[(&'static str, &str)]) -> TestApp {
    let data = tempfile::tempdir().expect("temp dir");
    let redis_url = redis.url();
    let mut settings: Vec<(&'static str, &str)> =
        vec![("database-url", db_url), ("migrate", "true"), ("redis-url", &redis_url)];
    settings.extend_from_slice(extra);
    let app = spawn_app_in(data, &settings).await;
    let listening = eventually(Duration::from_secs(10), || async {
        get(&app.url("/health"), &[]).await.json()["checks"]["cache_bus"]["status"] == "ok"
    })
    .await;
    assert!(listening, "the replica did not start listening to the cache bus");
    app
}

async fn two_replicas(redis: &RedisServer) -> (TestApp, TestApp, String) {
    let db_url = create_postgres_database().await;
    let a = replica(&db_url, redis, &[]).await;
    let b = replica(&db_url, redis, &[]).await;
    (a, b, db_url)
}

/// The same person on another replica.
fn on<'a>(app: &'a TestApp, api: &Api<'_>) -> Api<'a> {
    Api { app, cookie: api.cookie.clone(), user: api.user.clone() }
}

/// Polls a GET on `api` until `check` holds for its answer, for at most a second.
async fn seen_within(api: &Api<'_>, path: &str, what: &str, check: impl Fn(&Answer) -> bool) {
    let started = std::time::Instant::now();
    let last = std::cell::RefCell::new(String::new());
    let ok = eventually(WITHIN, || async {
        let answer = api.get(path).await;
        *last.borrow_mut() = format!("{} {}", answer.status, answer.text());
        check(&answer)
    })
    .await;
    assert!(ok, "{what}: {path} still answers {} after {:?}", last.borrow(), started.elapsed());
}

fn jpeg(seed: u8) -> Vec<u8> {
    common::images::Jpeg { width: 64, height: 48, seed, ..Default::default() }.encode()
}

async fn album(api: &Api<'_>, title: &str, visibility: &str) -> i64 {
    let answer = api.post("/api/v1/albums", json!({"title": title, "visibility": visibility})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    answer.json()["id"].as_i64().expect("id")
}

async fn photo(api: &Api<'_>, album: i64, seed: u8, caption: &str) -> i64 {
    let answer = api.upload(album, &[("p.jpg", &jpeg(seed))], Some(caption)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    answer.json()["items"][0]["id"].as_i64().expect("photo id")
}

fn run_admin(db_url: &str, args: &[&str]) {
    let data = tempfile::tempdir().expect("temp dir");
    let dir = data.path().display().to_string();
    let mut all = vec!["admin", "--data-dir", dir.as_str()];
    all.extend_from_slice(args);
    let out = common::binary(&all, &[("PUJO_DATABASE_URL", db_url)]).output().expect("run pujo admin");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn titles(list: &Value) -> Vec<String> {
    list["items"].as_array().expect("items").iter().map(|a| a["title"].as_str().unwrap_or("").to_owned()).collect()
}

#[tokio::test]
async fn every_cached_read_on_one_replica_sees_a_write_on_the_other_within_a_second() {
    let redis = RedisServer::start();
    let (a, b, db_url) = two_replicas(&redis).await;
    let alice = Api::register(&a, "alice").await;
    let bob = Api::register(&a, "bob").await;
    run_admin(&db_url, &["grant-admin", "bob"]);
    let (alice_b, anon_b) = (on(&b, &alice), Api::anonymous(&b));
    let bob_a = on(&a, &bob);
    let pandal = bob_a.post("/api/v1/pandals", json!({"name": "Bagbazar", "city": "Kolkata", "year": 2026})).await;
    assert_eq!(pandal.status, StatusCode::CREATED, "{}", pandal.text());
    let pandal = pandal.json()["id"].as_i64().expect("pandal id");
    let album_id = album(&alice, "Saptami", "public").await;
    alice.patch(&format!("/api/v1/albums/{album_id}"), json!({"pandal_id": pandal})).await;
    let photo_id = photo(&alice, album_id, 1, "Dhunuchi").await;

    // Warm every kind of read on B, twice, and check the second came from a cache.
    let reads = [
        "/api/v1/albums".to_owned(),
        format!("/api/v1/albums/{album_id}"),
        format!("/api/v1/albums/{album_id}/photos"),
        "/api/v1/photos".to_owned(),
        format!("/api/v1/photos/{photo_id}"),
        format!("/api/v1/photos/{photo_id}/comments"),
        "/api/v1/pandals".to_owned(),
        "/api/v1/pandals/facets".to_owned(),
        format!("/api/v1/pandals/{pandal}"),
        "/api/v1/search?q=dhunuchi".to_owned(),
        "/api/v1/users/alice".to_owned(),
    ];
    let hits_before = metric(&b, "cache_requests_total", &[("tier", "moka"), ("result", "hit")]).await;
    for path in &reads {
        for _ in 0..2 {
            assert_eq!(anon_b.get(path).await.status, StatusCode::OK, "{path}");
            assert_eq!(alice_b.get(path).await.status, StatusCode::OK, "{path}");
        }
    }
    let hits = metric(&b, "cache_requests_total", &[("tier", "moka"), ("result", "hit")]).await - hits_before;
    assert!(hits >= reads.len() as f64 * 2.0, "the second reads came from moka: {hits} hits");

    // An album's fields.
    alice.patch(&format!("/api/v1/albums/{album_id}"), json!({"title": "Saptami sandhya"})).await;
    seen_within(&anon_b, &format!("/api/v1/albums/{album_id}"), "album title", |r| {
        r.json()["title"] == "Saptami sandhya"
    })
    .await;
    seen_within(&anon_b, "/api/v1/albums", "album list", |r| titles(&r.json()).contains(&"Saptami sandhya".into()))
        .await;
    seen_within(&alice_b, "/api/v1/users/alice", "profile albums", |r| {
        r.json()["albums"][0]["title"] == "Saptami sandhya"
    })
    .await;
    // A photo's caption, everywhere it shows.
    alice.patch(&format!("/api/v1/photos/{photo_id}"), json!({"caption": "Sandhi puja"})).await;
    let caption_is = |r: &Answer| r.text().contains("Sandhi puja") && !r.text().contains("Dhunuchi");
    seen_within(&anon_b, &format!("/api/v1/photos/{photo_id}"), "photo caption", caption_is).await;
    seen_within(&anon_b, &format!("/api/v1/albums/{album_id}/photos"), "album photos", caption_is).await;
    seen_within(&anon_b, "/api/v1/photos", "feed", caption_is).await;
    seen_within(&anon_b, &format!("/api/v1/pandals/{pandal}"), "pandal page", caption_is).await;
    seen_within(&anon_b, "/api/v1/search?q=dhunuchi", "old search", |r| r.json()["photos"] == json!([])).await;
    // Comments and likes, and their counts.
    let comment = bob_a.post(&format!("/api/v1/photos/{photo_id}/comments"), json!({"body": "Darun!"})).await;
    assert_eq!(comment.status, StatusCode::CREATED);
    seen_within(&anon_b, &format!("/api/v1/photos/{photo_id}/comments"), "comments", |r| r.text().contains("Darun!"))
        .await;
    assert_eq!(bob_a.put(&format!("/api/v1/photos/{photo_id}/like")).await.status, StatusCode::OK);
    seen_within(&anon_b, &format!("/api/v1/photos/{photo_id}"), "like count", |r| r.json()["like_count"] == 1).await;
    seen_within(&anon_b, &format!("/api/v1/albums/{album_id}/photos"), "like count in a list", |r| {
        r.json()["items"][0]["like_count"] == 1 && r.json()["items"][0]["comment_count"] == 1
    })
    .await;
    // Pandals: a new one in the list and the facets; a renamed one everywhere.
    bob_a.post("/api/v1/pandals", json!({"name": "Kumartuli", "city": "Howrah", "year": 2025})).await;
    seen_within(&anon_b, "/api/v1/pandals", "pandal list", |r| r.text().contains("Kumartuli")).await;
    seen_within(&anon_b, "/api/v1/pandals/facets", "facets", |r| r.text().contains("Howrah")).await;
    bob_a.patch(&format!("/api/v1/pandals/{pandal}"), json!({"name": "Bagbazar Sarbojanin"})).await;
    seen_within(&anon_b, &format!("/api/v1/albums/{album_id}"), "pandal name on the album", |r| {
        r.text().contains("Bagbazar Sarbojanin")
    })
    .await;
    // A display name, on everything the person made.
    alice.patch("/api/v1/me", json!({"display_name": "Alice Sen"})).await;
    seen_within(&anon_b, &format!("/api/v1/photos/{photo_id}"), "display name", |r| r.text().contains("Alice Sen"))
        .await;
    seen_within(&anon_b, "/api/v1/users/alice", "profile", |r| r.json()["user"]["display_name"] == "Alice Sen").await;
    // A deleted photo and album.
    assert_eq!(alice.delete(&format!("/api/v1/photos/{photo_id}")).await.status, StatusCode::NO_CONTENT);
    seen_within(&anon_b, &format!("/api/v1/photos/{photo_id}"), "deleted photo", |r| r.status == StatusCode::NOT_FOUND)
        .await;
    assert_eq!(alice.delete(&format!("/api/v1/albums/{album_id}")).await.status, StatusCode::NO_CONTENT);
    seen_within(&anon_b, &format!("/api/v1/albums/{album_id}"), "deleted album", |r| r.status == StatusCode::NOT_FOUND)
        .await;
    // The invalidations B heard came from A.
    assert!(metric(&b, "cache_invalidations_total", &[("origin", "peer")]).await > 0.0);
}

#[tokio::test]
async fn private_albums_never_leak_through_a_cache() {
    let redis = RedisServer::start();
    let (a, b, db_url) = two_replicas(&redis).await;
    let alice = Api::register(&a, "alice").await;
    let bob = Api::register(&a, "bob").await;
    let album_id = album(&alice, "Ghore", "public").await;
    let photo_id = photo(&alice, album_id, 2, "Thakur dalan").await;
    let paths = [
        format!("/api/v1/albums/{album_id}"),
        format!("/api/v1/albums/{album_id}/photos"),
        format!("/api/v1/photos/{photo_id}"),
        format!("/api/v1/photos/{photo_id}/comments"),
    ];
    let (bob_b, anon_b, alice_b) = (on(&b, &bob), Api::anonymous(&b), on(&b, &alice));
    for path in &paths {
        assert_eq!(bob_b.get(path).await.status, StatusCode::OK, "{path}");
        assert_eq!(anon_b.get(path).await.status, StatusCode::OK, "{path}");
    }
    assert!(anon_b.get("/api/v1/search?q=thakur").await.text().contains("Thakur dalan"));

    let private = alice.patch(&format!("/api/v1/albums/{album_id}"), json!({"visibility": "private"})).await;
    assert_eq!(private.status, StatusCode::OK);
    for path in &paths {
        seen_within(&bob_b, path, "private to bob", |r| r.status == StatusCode::NOT_FOUND).await;
        seen_within(&anon_b, path, "private to anonymous", |r| r.status == StatusCode::NOT_FOUND).await;
        // The owner still sees it, and her answers are cached now too...
        assert_eq!(alice_b.get(path).await.status, StatusCode::OK, "{path}");
        assert_eq!(alice_b.get(path).await.status, StatusCode::OK, "{path}");
        // ...yet nobody else gets them, from either replica.
        assert_eq!(bob_b.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(on(&a, &bob).get(path).await.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(Api::anonymous(&a).get(path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    seen_within(&anon_b, "/api/v1/search?q=thakur", "search", |r| !r.text().contains("Thakur dalan")).await;
    seen_within(&anon_b, "/api/v1/photos", "feed", |r| !r.text().contains("Thakur dalan")).await;
    assert!(!bob_b.get("/api/v1/users/alice").await.text().contains("Ghore"));

    // A third replica starting cold (Redis holds everyone's answers) serves no one
    // else's either.
    let c = replica(&db_url, &redis, &[]).await;
    for path in &paths {
        assert_eq!(on(&c, &bob).get(path).await.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(Api::anonymous(&c).get(path).await.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(on(&c, &alice).get(path).await.status, StatusCode::OK, "{path}");
    }
    // And back to public: the 404s remembered meanwhile go as fast.
    alice.patch(&format!("/api/v1/albums/{album_id}"), json!({"visibility": "public"})).await;
    for path in &paths {
        seen_within(&anon_b, path, "public again", |r| r.status == StatusCode::OK).await;
    }
}

#[tokio::test]
async fn sessions_are_revoked_on_every_replica_at_once() {
    let redis = RedisServer::start();
    let (a, b, _db_url) = two_replicas(&redis).await;
    let alice = Api::register(&a, "alice").await;
    let second = Api::login(&a, "alice", "shiuli-phool-2026").await;
    let elsewhere = Api::with_session(&b, &second);
    assert_eq!(elsewhere.get("/api/v1/me").await.status, StatusCode::OK);
    assert_eq!(elsewhere.get("/api/v1/me").await.status, StatusCode::OK, "cached now");

    let changed = alice
        .call(
            "PUT",
            "/api/v1/me/password",
            Some(&json!({"current_password": "shiuli-phool-2026", "new_password": "kash-phool-2026"}).to_string()),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.text());
    seen_within(&elsewhere, "/api/v1/me", "other session after a password change", |r| {
        r.status == StatusCode::UNAUTHORIZED
    })
    .await;
    assert_eq!(on(&b, &alice).get("/api/v1/me").await.status, StatusCode::OK, "the changing session stays");

    // Log-out on A ends the session on B too.
    let third = Api::with_session(&b, &Api::login(&b, "alice", "kash-phool-2026").await);
    assert_eq!(third.get("/api/v1/me").await.status, StatusCode::OK);
    assert_eq!(on(&a, &third).call("POST", "/api/v1/auth/logout", None).await.status, StatusCode::NO_CONTENT);
    seen_within(&third, "/api/v1/me", "logged-out session", |r| r.status == StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn log_in_limits_count_across_replicas() {
    let redis = RedisServer::start();
    let (a, b, _db_url) = two_replicas(&redis).await;
    // 30 attempts per client per five minutes, wherever they land.
    let mut refused = None;
    for i in 0..31 {
        let app = if i % 2 == 0 { &a } else { &b };
        let answer = Api::login(app, &format!("nobody{i}"), "wrong-password-1").await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(i);
            break;
        }
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(refused, Some(30), "the 31st attempt, on either replica, is refused");
    assert_eq!(Api::login(&a, "nobody", "wrong-password-1").await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn refused_uploads_count_across_replicas() {
    let redis = RedisServer::start();
    let (a, b, _db_url) = two_replicas(&redis).await;
    let bot = Api::register(&a, "junkbot").await;
    let album_id = album(&bot, "Junk", "public").await;
    // 60 refusals per account per ten minutes, wherever they land; the check before
    // the body reads the count that both replicas keep in Redis.
    for i in 0..60 {
        let app = if i % 2 == 0 { &a } else { &b };
        let answer = on(app, &bot).upload(album_id, &[("junk.jpg", b"not a photo")], None).await;
        assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "upload {i}: {}", answer.text());
    }
    for app in [&a, &b] {
        let answer = on(app, &bot).upload(album_id, &[("ok.jpg", &jpeg(1))], None).await;
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS, "{}", answer.text());
    }
}

#[tokio::test]
async fn api_answers_carry_etags_and_answer_304() {
    let redis = RedisServer::start();
    let (a, b, _db_url) = two_replicas(&redis).await;
    let alice = Api::register(&a, "alice").await;
    let album_id = album(&alice, "Nabami", "public").await;
    let path = format!("/api/v1/albums/{album_id}");
    let first = Api::anonymous(&b).get(&path).await;
    let etag = first.header("etag").to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(first.header("cache-control"), "private, no-cache");
    let again = Api::anonymous(&a).get_with(&path, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED, "the same content has the same ETag on every replica");
    assert!(again.body.is_empty());
    alice.patch(&path, json!({"description": "Kumari puja"})).await;
    seen_within(&Api::anonymous(&b), &path, "changed ETag", |r| r.header("etag") != etag).await;
    let changed = Api::anonymous(&b).get_with(&path, &[("if-none-match", &etag)]).await;
    assert_eq!(changed.status, StatusCode::OK);
    // Answers that do not go through the cache have ETags too.
    let me = alice.get("/api/v1/me").await;
    let me_etag = me.header("etag").to_owned();
    assert!(me_etag.starts_with("W/\""), "{me_etag}");
    let me_again = on(&b, &alice).get_with("/api/v1/me", &[("if-none-match", &me_etag)]).await;
    assert_eq!(me_again.status, StatusCode::NOT_MODIFIED);
    assert!(me_again.body.is_empty());
    alice.patch("/api/v1/me", json!({"bio": "Kumortuli"})).await;
    let me_changed = alice.get_with("/api/v1/me", &[("if-none-match", &me_etag)]).await;
    assert_eq!(me_changed.status, StatusCode::OK);
    // A remembered 404 is the same answer as any other 404.
    let missing = Api::anonymous(&b).get("/api/v1/albums/987654").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.text(), Api::anonymous(&b).get("/api/v1/no-such-route").await.text());
    assert_eq!(Api::anonymous(&b).get("/api/v1/albums/987654").await.text(), missing.text());
}

#[tokio::test]
async fn cached_answers_go_in_the_coding_asked_for_with_one_etag() {
    let app = common::spawn_app().await;
    let alice = Api::register(&app, "alice").await;
    let album_id = album(&alice, "Dashami", "public").await;
    let path = format!("/api/v1/albums/{album_id}");
    let long = "Sindur khela at the ghat, then the immersion. ".repeat(40);
    assert_eq!(alice.patch(&path, json!({ "description": long })).await.status, StatusCode::OK);
    let plain = get(&app.url(&path), &[("accept-encoding", "identity")]).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.body.len() > 1800, "{} bytes", plain.body.len());
    assert!(plain.headers.get("content-encoding").is_none());
    assert_eq!(plain.header("vary"), "Cookie, Accept-Encoding");
    let etag = plain.header("etag").to_owned();
    for (asked, coding) in [("gzip, deflate, br, zstd", "br"), ("gzip", "gzip"), ("br;q=0, gzip", "gzip")] {
        // Twice: the second is the copy kept with the cached answer.
        for _ in 0..2 {
            let r = get(&app.url(&path), &[("accept-encoding", asked)]).await;
            assert_eq!(r.status, StatusCode::OK);
            assert_eq!(r.header("content-encoding"), coding, "{asked}");
            assert_eq!(r.header("etag"), etag, "one content, one ETag");
            assert_eq!(r.header("vary"), "Cookie, Accept-Encoding");
            assert!(r.body.len() < plain.body.len() / 4, "{coding}: {} bytes", r.body.len());
            let mut decoded = Vec::new();
            if coding == "br" {
                brotli::BrotliDecompress(&mut &r.body[..], &mut decoded).expect("valid brotli");
            } else {
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&r.body[..]), &mut decoded)
                    .expect("valid gzip");
            }
            assert_eq!(decoded, plain.body, "{coding} is the same JSON");
        }
    }
    let held = get(&app.url(&path), &[("accept-encoding", "br"), ("if-none-match", &etag)]).await;
    assert_eq!(held.status, StatusCode::NOT_MODIFIED);
    assert!(held.body.is_empty() && held.headers.get("content-encoding").is_none());
}

#[tokio::test]
async fn a_cold_key_burst_makes_one_database_query() {
    let redis = RedisServer::start();
    let (a, b, _db_url) = two_replicas(&redis).await;
    let alice = Api::register(&a, "alice").await;
    let album_id = album(&alice, "Dashami", "public").await;
    photo(&alice, album_id, 3, "Sindur khela").await;

    // Both replicas have heard A's writes on the bus (A hears its own back): an answer
    // read from here on cannot be made stale by a notification still on its way
    // (which would make a burst's later half ask again, and count two queries).
    let heard = eventually(Duration::from_secs(5), || async {
        let written = metric(&a, "cache_invalidations_total", &[("origin", "local")]).await;
        metric(&a, "cache_invalidations_total", &[("origin", "peer")]).await >= written
            && metric(&b, "cache_invalidations_total", &[("origin", "peer")]).await >= written
    })
    .await;
    assert!(heard, "both replicas hear A's writes");
    // 100 at once on one replica.
    let path = format!("/api/v1/albums/{album_id}/photos");
    let before = metric(&a, "db_queries_total", &[]).await;
    let burst: Vec<_> = (0..100)
        .map(|_| {
            let url = a.url(&path);
            tokio::spawn(async move { get(&url, &[]).await.status })
        })
        .collect();
    for task in burst {
        assert_eq!(task.await.expect("request"), StatusCode::OK);
    }
    assert_eq!(metric(&a, "db_queries_total", &[]).await - before, 1.0, "100 requests, one query");

    // 100 at once split over two replicas: one loads, the other waits for Redis.
    let path = format!("/api/v1/albums/{album_id}/photos?limit=7");
    let before = metric(&a, "db_queries_total", &[]).await + metric(&b, "db_queries_total", &[]).await;
    let burst: Vec<_> = (0..100)
        .map(|i| {
            let url = if i % 2 == 0 { a.url(&path) } else { b.url(&path) };
            tokio::spawn(async move { get(&url, &[]).await.status })
        })
        .collect();
    for task in burst {
        assert_eq!(task.await.expect("request"), StatusCode::OK);
    }
    let after = metric(&a, "db_queries_total", &[]).await + metric(&b, "db_queries_total", &[]).await;
    assert_eq!(after - before, 1.0, "100 requests on two replicas, one query");
}

/// What `request` answered, and the database calls it cost on `app`.
async fn costing(app: &TestApp, request: impl Future<Output = Answer>) -> (Answer, f64) {
    let before = metric(app, "db_queries_total", &[]).await;
    let answer = request.await;
    (answer, metric(app, "db_queries_total", &[]).await - before)
}

/// A like or a comment on a festival night makes two trips to PostgreSQL: the check that
/// the photo is visible, then the write with its announcement on the bus, sent together.
/// (They were four: the write, its counts read again, and the announcement, each
/// waiting for a connection and a turn on a busy core.) The other replica still hears
/// of it.
#[tokio::test]
async fn a_like_or_a_comment_is_two_database_calls_with_its_announcement() {
    let redis = RedisServer::start();
    let (a, b, _db_url) = two_replicas(&redis).await;
    let owner = Api::register(&a, "owner").await;
    let album_id = album(&owner, "Ashtami", "public").await;
    let photo_id = photo(&owner, album_id, 3, "Anjali").await;
    let fan = Api::register(&a, "fan").await;
    let like = format!("/api/v1/photos/{photo_id}/like");
    // The first like warms the session and the statements.
    assert_eq!(fan.put(&like).await.status, StatusCode::OK);

    let (unliked, calls) = costing(&a, fan.delete(&like)).await;
    assert_eq!((unliked.status, unliked.json()["like_count"].as_i64()), (StatusCode::OK, Some(0)));
    assert_eq!(calls, 2.0, "an unlike");

    let (liked, calls) = costing(&a, fan.put(&like)).await;
    assert_eq!((liked.status, liked.json()["liked_by_me"].as_bool()), (StatusCode::OK, Some(true)));
    assert_eq!(calls, 2.0, "a like");

    let comments = format!("/api/v1/photos/{photo_id}/comments");
    let (comment, calls) = costing(&a, fan.post(&comments, json!({"body": "Shubho Ashtami"}))).await;
    assert_eq!((comment.status, comment.json()["author"]["username"].as_str()), (StatusCode::CREATED, Some("fan")));
    assert_eq!(calls, 2.0, "a comment");

    let anon_b = Api::anonymous(&b);
    seen_within(&anon_b, &format!("/api/v1/photos/{photo_id}"), "the counts on the other replica", |r| {
        r.json()["like_count"] == 1 && r.json()["comment_count"] == 1
    })
    .await;
}

#[tokio::test]
async fn redis_stopping_and_restarting_costs_speed_not_answers() {
    let mut redis = RedisServer::start();
    let (a, b, _db_url) = two_replicas(&redis).await;
    let alice = Api::register(&a, "alice").await;
    let album_id = album(&alice, "Ekadashi", "public").await;
    let photo_id = photo(&alice, album_id, 4, "Bijoya").await;
    let alice_b = on(&b, &alice);
    let reads = [
        format!("/api/v1/albums/{album_id}"),
        format!("/api/v1/albums/{album_id}/photos"),
        format!("/api/v1/photos/{photo_id}"),
        "/api/v1/me".to_owned(),
    ];

    // Traffic on both replicas, reads and writes, while Redis goes away mid-way.
    let traffic = |round: usize| {
        let (alice, alice_b, reads) = (&alice, &alice_b, &reads);
        async move {
            let mut failures = Vec::new();
            for path in reads {
                for api in [alice, alice_b] {
                    let answer = api.get(path).await;
                    if answer.status != StatusCode::OK {
                        failures.push(format!("GET {path}: {} {}", answer.status, answer.text()));
                    }
                }
            }
            let body = json!({"body": format!("Asche bochor abar hobe {round}")});
            let answer = alice_b.post(&format!("/api/v1/photos/{photo_id}/comments"), body).await;
            if answer.status != StatusCode::CREATED {
                failures.push(format!("POST comment: {} {}", answer.status, answer.text()));
            }
            failures
        }
    };
    let mut failures = Vec::new();
    for round in 0..5 {
        failures.extend(traffic(round).await);
    }
    // Redis is killed while requests are in flight.
    let started = std::time::Instant::now();
    let stopper = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        redis.stop();
    };
    let work = async {
        let mut failures = Vec::new();
        for round in 5..40 {
            failures.extend(traffic(round).await);
        }
        failures
    };
    let ((), during) = tokio::join!(stopper, work);
    failures.extend(during);
    let outage = started.elapsed();
    assert!(failures.is_empty(), "requests failed while Redis was down: {failures:#?}");
    // Served within the timeout: 30 rounds of 9 requests took well under a second each.
    assert!(outage < Duration::from_secs(15), "the outage rounds took {outage:?}");
    for app in [&a, &b] {
        let ready = get(&app.url("/ready"), &[]).await;
        assert_eq!(ready.status, StatusCode::OK, "Redis is an accelerator: {}", ready.text());
        assert_eq!(ready.json()["checks"]["redis"]["status"], "degraded");
        let health = get(&app.url("/health"), &[]).await.json();
        assert_eq!(health["checks"]["redis"]["status"], "degraded", "{health}");
        assert_eq!(health["status"], "degraded");
        assert!(metric(app, "redis_errors_total", &[]).await > 0.0);
    }
    // Writes still reach the other replica while Redis is down (the bus is PostgreSQL).
    alice.patch(&format!("/api/v1/albums/{album_id}"), json!({"title": "Ekadashi, Redis-less"})).await;
    seen_within(&alice_b, &format!("/api/v1/albums/{album_id}"), "write during the outage", |r| {
        r.json()["title"] == "Ekadashi, Redis-less"
    })
    .await;

    // Back: caching through Redis resumes without restarting Pujo.
    redis.resume();
    // The breaker lets a probe through after its pause (up to 30 s); /ready asks Redis.
    let resumed = eventually(Duration::from_secs(40), || async {
        let ready_a = get(&a.url("/ready"), &[]).await.json()["checks"]["redis"]["status"] == "ok";
        let ready_b = get(&b.url("/ready"), &[]).await.json()["checks"]["redis"]["status"] == "ok";
        ready_a && ready_b && get(&b.url("/health"), &[]).await.json()["checks"]["redis"]["status"] == "ok"
    })
    .await;
    assert!(resumed, "Pujo did not go back to Redis");
    let hits_before = metric(&a, "cache_requests_total", &[("tier", "redis"), ("result", "hit")]).await;
    // B loads an answer into Redis; A, which has not seen it, finds it there.
    let fresh = format!("/api/v1/albums/{album_id}/photos?limit=3");
    let ok = eventually(Duration::from_secs(10), || async {
        assert_eq!(alice_b.get(&fresh).await.status, StatusCode::OK);
        assert_eq!(alice.get(&fresh).await.status, StatusCode::OK);
        metric(&a, "cache_requests_total", &[("tier", "redis"), ("result", "hit")]).await > hits_before
    })
    .await;
    assert!(ok, "no Redis hits after Redis came back");
    assert!(failures.is_empty());
}

#[tokio::test]
async fn a_redis_that_stops_answering_costs_each_request_at_most_the_timeout() {
    let redis = RedisServer::start();
    let db_url = create_postgres_database().await;
    let a = replica(&db_url, &redis, &[]).await;
    let alice = Api::register(&a, "alice").await;
    let album_id = album(&alice, "Mahalaya", "public").await;
    let anon = Api::anonymous(&a);
    assert_eq!(alice.get("/api/v1/me").await.status, StatusCode::OK);

    redis.freeze();
    // Every request is answered; none waits long for Redis: each Redis operation gives
    // up after 50 ms and, after three failures, the breaker stops asking.
    let mut slowest = Duration::ZERO;
    for i in 0..40 {
        let started = std::time::Instant::now();
        // A new query string each time: a miss in moka, so Redis would be asked.
        let answer = anon.get(&format!("/api/v1/albums/{album_id}/photos?limit={}", 1 + i % 40)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let me = alice.get("/api/v1/me").await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.text());
        slowest = slowest.max(started.elapsed());
    }
    // A miss can cost a few Redis operations (GET, lock, SET) before the breaker opens.
    assert!(slowest < Duration::from_millis(600), "slowest pair of requests: {slowest:?}");
    let health = get(&a.url("/health"), &[]).await.json();
    assert_eq!(health["checks"]["redis"]["status"], "degraded", "{health}");
    assert_eq!(metric(&a, "redis_circuit_open", &[]).await, 1.0);
    assert!(metric(&a, "redis_errors_total", &[("kind", "timeout")]).await >= 3.0);
    assert!(metric(&a, "cache_requests_total", &[("tier", "redis"), ("result", "skipped")]).await > 0.0);

    redis.thaw();
    let back = eventually(Duration::from_secs(40), || async {
        get(&a.url("/ready"), &[]).await.json()["checks"]["redis"]["status"] == "ok"
            && get(&a.url("/health"), &[]).await.json()["checks"]["redis"]["status"] == "ok"
    })
    .await;
    assert!(back, "the breaker did not close after Redis answered again");
    assert_eq!(metric(&a, "redis_circuit_open", &[]).await, 0.0);
}

/// The breaker's probe is one operation; if its request goes away before Redis answers
/// (the client hung up, the request's own timeout), the next operation probes instead.
/// Before, the breaker waited for the lost probe's outcome forever and skipped Redis
/// until the process restarted.
#[tokio::test]
async fn a_probe_dropped_before_redis_answers_does_not_keep_redis_skipped() {
    use pujo::cache::redis::Fault;
    let server = RedisServer::start();
    let redis = redis_tier(&server, Duration::from_millis(50), 4).await;

    server.freeze();
    let opened = eventually(Duration::from_secs(5), || async { redis.get("k").await == Err(Fault::Skipped) }).await;
    assert!(opened, "a frozen Redis did not open the breaker");
    // The pause (1 s) passes; the next operation is the probe, and it is dropped while
    // Redis still says nothing.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let dropped = tokio::time::timeout(Duration::from_millis(10), redis.get("k")).await;
    assert!(dropped.is_err(), "the probe ended: {dropped:?}");

    server.thaw();
    // A later operation probes, finds Redis, and closes the breaker (the pause may
    // have doubled meanwhile: up to 4 s).
    let back = eventually(Duration::from_secs(6), || async { redis.get("k").await == Ok(None) }).await;
    assert!(back, "Redis is still skipped after it answers again: {:?}", redis.get("k").await);
}

/// An operation holds its pooled connection until its task has read the answer, and in
/// a process whose cores are busy many tasks wait to run at once. With the default
/// pool of 16 the operations behind them queued for a connection and timed out there
/// while Redis sat idle (at 7,000 festival visitors on one replica, 13,000 timeouts a
/// minute even with the timeout raised to 250 ms: docs/BENCHMARKS.md, "A festival
/// night"). The default leaves room beside 32 of them.
#[tokio::test]
async fn the_default_pool_has_room_beside_operations_whose_tasks_wait_to_run() {
    let server = RedisServer::start();
    let config =
        pujo::config::Config::from_sources(&[("redis-url", server.url())], std::iter::empty()).expect("config");
    let pool_size = config.cache.redis.as_ref().expect("redis configured").pool_size;
    let redis = redis_tier(&server, Duration::from_millis(500), pool_size).await;
    const WAITING: u32 = 32;
    // Connections are opened as needed: as many as operations at once (one is open).
    let pings = futures_util::future::join_all((0..WAITING).map(|_| redis.ping())).await;
    assert!(pings.iter().all(Result::is_ok), "{pings:?}");
    assert_eq!(redis.pool_state(), (WAITING, 0), "connections (idle, in use) before Redis is frozen");

    server.freeze();
    let keys: Vec<String> = (0..WAITING).map(|i| format!("waiting-{i}")).collect();
    let mut waiting: Vec<_> = keys.iter().map(|key| Box::pin(redis.get(key))).collect();
    for op in &mut waiting {
        // Polled until its command is out; Redis says nothing yet.
        assert!(tokio::time::timeout(Duration::from_millis(5), op.as_mut()).await.is_err());
    }
    assert_eq!(redis.pool_state(), (0, WAITING), "each waiting operation holds a connection");
    server.thaw();
    // None of them is polled again until this one is done.
    assert_eq!(redis.get("next").await, Ok(None), "the next operation found no connection free");
    for op in waiting {
        assert_eq!(op.await, Ok(None));
    }
}

/// An operation that finds every connection held says so (`kind="pool"` in
/// `redis_errors_total`), apart from one whose own wait for Redis ran out: the first
/// points at the pod (its pool, or its CPU), the second at Redis.
#[tokio::test]
async fn an_operation_that_finds_every_connection_held_says_so() {
    use pujo::cache::redis::Fault;
    let server = RedisServer::start();
    let redis = redis_tier(&server, Duration::from_millis(100), 1).await;

    server.freeze();
    let mut holder = std::pin::pin!(redis.get("holder"));
    assert!(tokio::time::timeout(Duration::from_millis(20), holder.as_mut()).await.is_err());
    assert_eq!(redis.get("next").await, Err(Fault::PoolFull), "the next operation waited for the pool");
    assert_eq!(holder.await, Err(Fault::Timeout), "the holder waited for Redis");
    server.thaw();
}

/// The Redis tier on its own, on `server`, once it has answered.
async fn redis_tier(server: &RedisServer, timeout: Duration, pool_size: u32) -> pujo::cache::redis::Redis {
    let settings = pujo::cache::redis::RedisSettings { url: server.url(), password: None, timeout, pool_size };
    let redis = pujo::cache::redis::Redis::new(&settings, &pujo::metrics::Metrics::new("test", "test"))
        .expect("redis settings");
    redis.ping().await.expect("redis answers");
    redis
}

// ---------------------------------------------------------------- SQLite + Redis

/// A SQLite Pujo with Redis, in `data` (kept by the caller across restarts).
async fn embedded(data: tempfile::TempDir, redis: &RedisServer, extra: &[(&'static str, &str)]) -> TestApp {
    let url = redis.url();
    let mut settings: Vec<(&'static str, &str)> = vec![("redis-url", &url)];
    settings.extend_from_slice(extra);
    spawn_app_in(data, &settings).await
}

/// Stops an in-process Pujo and hands back its data folder for the next one.
/// With SQLite the bus's numbers are counted in process and start again at 0, while
/// Redis keeps what the last process cached: an answer read at number 5 must not look
/// fresh against a write numbered 1 after the restart.
#[tokio::test]
async fn after_a_restart_an_album_made_private_is_not_served_from_redis() {
    let redis = RedisServer::start();
    let first = embedded(tempfile::tempdir().expect("dir"), &redis, &[]).await;
    let alice = Api::register(&first, "alice").await;
    let id = album(&alice, "Saptami", "public").await;
    for title in ["Ashtami", "Navami", "Dashami"] {
        album(&alice, title, "public").await;
    }
    let path = format!("/api/v1/albums/{id}");
    for _ in 0..2 {
        assert_eq!(Api::anonymous(&first).get(&path).await.status, StatusCode::OK);
    }
    assert!(metric(&first, "cache_requests_total", &[("tier", "redis")]).await > 0.0, "Redis took the answer");
    let (cookie, user) = (alice.cookie.clone(), alice.user.clone());
    let data = stop(first).await;

    let second = embedded(data, &redis, &[]).await;
    let alice = Api { app: &second, cookie, user };
    let made_private = alice.patch(&path, json!({"visibility": "private"})).await;
    assert_eq!(made_private.status, StatusCode::OK, "{}", made_private.text());
    let anonymous = Api::anonymous(&second).get(&path).await;
    assert_eq!(anonymous.status, StatusCode::NOT_FOUND, "a private album was served: {}", anonymous.text());
}

/// The same for sessions: a password change after a restart ends the other sessions,
/// and their Redis copies from before the restart must not keep them alive.
#[tokio::test]
async fn after_a_restart_a_revoked_session_is_not_taken_from_redis() {
    let redis = RedisServer::start();
    let first = embedded(tempfile::tempdir().expect("dir"), &redis, &[]).await;
    let alice = Api::register(&first, "alice").await;
    let stolen = Api::with_session(&first, &Api::login(&first, "alice", "shiuli-phool-2026").await);
    for title in ["Ashtami", "Navami", "Dashami"] {
        album(&alice, title, "public").await;
    }
    assert_eq!(stolen.get("/api/v1/me").await.status, StatusCode::OK);
    let (cookie, stolen_cookie, user) = (alice.cookie.clone(), stolen.cookie.clone(), alice.user.clone());
    let data = stop(first).await;

    let second = embedded(data, &redis, &[]).await;
    let alice = Api { app: &second, cookie, user: user.clone() };
    let change = json!({"current_password": "shiuli-phool-2026", "new_password": "kash-phool-2026"}).to_string();
    let changed = alice.call("PUT", "/api/v1/me/password", Some(&change)).await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.text());
    let stolen = Api { app: &second, cookie: stolen_cookie, user };
    assert_eq!(stolen.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED, "a revoked session read");
    let write = stolen.post("/api/v1/albums", json!({"title": "Mine now", "visibility": "public"})).await;
    assert_eq!(write.status, StatusCode::UNAUTHORIZED, "a revoked session wrote: {}", write.text());
    assert_eq!(alice.get("/api/v1/me").await.status, StatusCode::OK, "the session that changed it stays");
}

/// `pujo admin grant-admin` / `revoke-admin` beside a running SQLite + Redis server
/// cannot reach its bus; they still take effect within the server's local TTL.
#[tokio::test]
async fn admin_role_changes_reach_a_running_sqlite_server_with_redis() {
    let redis = RedisServer::start();
    let app = embedded(tempfile::tempdir().expect("dir"), &redis, &[("cache-local-ttl", "500ms")]).await;
    let durga = Api::register(&app, "durga").await;
    assert_eq!(durga.get("/api/v1/me").await.json()["role"], "user");
    let pandal = |n: u32| json!({"name": format!("Pandal {n}"), "city": "Kolkata", "year": 2026});
    assert_eq!(durga.post("/api/v1/pandals", pandal(0)).await.status, StatusCode::FORBIDDEN);
    let admin = |action: &str| {
        let dir = app.data.path().display().to_string();
        let out = common::binary(&["admin", "--data-dir", &dir, action, "durga"], &[("PUJO_REDIS_URL", &redis.url())])
            .output()
            .expect("run pujo admin");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    admin("grant-admin");
    let n = std::cell::Cell::new(1);
    let granted = eventually(Duration::from_secs(3), || async {
        n.set(n.get() + 1);
        durga.post("/api/v1/pandals", pandal(n.get())).await.status == StatusCode::CREATED
    })
    .await;
    assert!(granted, "grant-admin did not reach the running server");
    admin("revoke-admin");
    let revoked = eventually(Duration::from_secs(3), || async {
        n.set(n.get() + 1);
        durga.post("/api/v1/pandals", pandal(n.get())).await.status == StatusCode::FORBIDDEN
    })
    .await;
    assert!(revoked, "revoke-admin did not reach the running server");
}

/// A pandal with a public album of two photos, straight in the database (the cache has
/// seen nothing yet): (pandal, album, [dhunuchi photo, sindoor photo]).
async fn festival_album(db: &pujo::db::Database, owner: i64, visibility: pujo::db::Visibility) -> (i64, i64, [i64; 2]) {
    festival_album_at(db, owner, visibility, "Bagbazar Sarbojanin").await
}

async fn festival_album_at(
    db: &pujo::db::Database,
    owner: i64,
    visibility: pujo::db::Visibility,
    pandal: &str,
) -> (i64, i64, [i64; 2]) {
    use pujo::db::{AlbumPatch, NewAlbum};
    let pandal = common::db::bagbazar_pandal(db, pandal).await;
    let new = NewAlbum {
        owner_id: owner,
        title: "Ashtami".to_owned(),
        description: String::new(),
        visibility,
        pandal_id: None,
        link_key: pujo::auth::random_key(),
    };
    let album = db.create_album(&new).await.expect("album");
    let patch = AlbumPatch { pandal_id: Some(Some(pandal)), ..Default::default() };
    let album = db.update_album(&album, patch).await.expect("pandal set").id;
    let mut photos = [0; 2];
    for (i, caption) in ["dhunuchi naach", "sindoor khela"].into_iter().enumerate() {
        let new = new_photo(owner, album, caption, u8::try_from(i).expect("small"));
        photos[i] = db.create_photo(&new).await.expect("photo").id;
    }
    (pandal, album, photos)
}

/// A photo's row for the database straight (no blob: its media are never asked for),
/// without a place, told apart by `seed`.
fn new_photo(owner: i64, album: i64, caption: &str, seed: u8) -> pujo::db::NewPhoto {
    pujo::db::NewPhoto {
        owner_id: owner,
        album_id: album,
        caption: caption.to_owned(),
        width: 64,
        height: 48,
        taken_at: None,
        exif: json!({}),
        sha256: vec![seed; 32],
        content_type: "image/jpeg".to_owned(),
        byte_size: 100,
        thumbhash: None,
        gps_privacy: pujo::db::GpsPrivacy::Hidden,
        lat: None,
        lon: None,
    }
}

/// Where the photo with `id` is in a list or search answer's photos.
fn photo_in(answer: &Value, id: i64) -> &Value {
    let photos = answer.get("items").or_else(|| answer.get("photos")).expect("photos");
    photos.as_array().expect("array").iter().find(|p| p["id"] == id).expect("the photo is listed")
}

/// A like or a comment changes one photo's counts, not which photos a list holds: the
/// lists that show the photo show the new counts at once, every other list stays cached.
async fn likes_and_comments_leave_other_lists_cached_and_show_in_theirs(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let (owner, fan, nobody) =
        (Api::register(&app, "pratima").await, Api::register(&app, "dhaki").await, Api::anonymous(&app));
    let (pandal, _, [dhunuchi, _]) = festival_album(&db, owner.id(), pujo::db::Visibility::Public).await;
    let untouched = ["/api/v1/search?q=sindoor", "/api/v1/albums", "/api/v1/pandals", "/api/v1/users/pratima"];
    let showing =
        ["/api/v1/photos".to_owned(), format!("/api/v1/pandals/{pandal}"), "/api/v1/search?q=dhunuchi".to_owned()];
    for path in untouched.iter().copied().chain(showing.iter().map(String::as_str)) {
        for who in [&nobody, &fan] {
            assert_eq!(who.get(path).await.status, StatusCode::OK, "{path}");
        }
    }

    assert_eq!(fan.put(&format!("/api/v1/photos/{dhunuchi}/like")).await.status, StatusCode::OK);
    let comment = fan.post(&format!("/api/v1/photos/{dhunuchi}/comments"), json!({"body": "Darun!"})).await;
    assert_eq!(comment.status, StatusCode::CREATED, "{}", comment.text());

    let hits_before = metric(&app, "cache_requests_total", &[("tier", "moka"), ("result", "hit")]).await;
    for path in untouched {
        assert_eq!(nobody.get(path).await.status, StatusCode::OK, "{path}");
    }
    let hits = metric(&app, "cache_requests_total", &[("tier", "moka"), ("result", "hit")]).await - hits_before;
    assert_eq!(hits, untouched.len() as f64, "lists without the photo were answered from the cache");
    for path in &showing {
        let anonymous = nobody.get(path).await.json();
        let seen = photo_in(&anonymous, dhunuchi);
        assert_eq!((seen["like_count"].as_i64(), seen["comment_count"].as_i64()), (Some(1), Some(1)), "{path}");
        assert_eq!(photo_in(&fan.get(path).await.json(), dhunuchi)["liked_by_me"], true, "{path}");
    }
    assert_eq!(fan.delete(&format!("/api/v1/photos/{dhunuchi}/like")).await.status, StatusCode::OK);
    for path in &showing {
        assert_eq!(photo_in(&fan.get(path).await.json(), dhunuchi)["liked_by_me"], false, "{path}");
        assert_eq!(photo_in(&nobody.get(path).await.json(), dhunuchi)["like_count"], 0, "{path}");
    }
}

/// A new photo changes its own pandal's page, the lists of photos and the searches
/// that could find it (by its caption's words), not any other pandal's page nor other
/// searches: on a festival night photos arrive every few seconds, and every pandal page
/// and every search was loaded from the database again after each one.
async fn a_new_photo_retires_its_own_pandals_page_and_no_other(backend: Backend) {
    // In-process answers live a minute here, so that only a retirement (not the clock,
    // on a slow machine) makes a read miss.
    let (app, db) = common::db::spawn_app_with_db_and(backend, &[("cache-local-ttl", "60s")]).await;
    let (owner, nobody) = (Api::register(&app, "kumor").await, Api::anonymous(&app));
    let (here, album, _) = festival_album(&db, owner.id(), pujo::db::Visibility::Public).await;
    let (other, _, _) = festival_album_at(&db, owner.id(), pujo::db::Visibility::Public, "Kumartuli Park").await;
    let untouched = [
        format!("/api/v1/pandals/{other}"),
        "/api/v1/pandals".to_owned(),
        // Finds the two albums' first photos, and could not find the new one.
        "/api/v1/search?q=dhunuchi".to_owned(),
    ];
    let showing = [
        format!("/api/v1/pandals/{here}"),
        "/api/v1/photos".to_owned(),
        format!("/api/v1/photos?pandal={here}"),
        "/api/v1/search?q=bisarjan".to_owned(),
    ];
    // Search finds the album by its title, and shows its count.
    let counting =
        ["/api/v1/albums".to_owned(), "/api/v1/users/kumor".to_owned(), "/api/v1/search?q=ashtami".to_owned()];
    for path in untouched.iter().chain(&showing).chain(&counting) {
        assert_eq!(nobody.get(path).await.status, StatusCode::OK, "{path}");
    }

    let new = photo(&owner, album, 9, "pratima bisarjan").await;

    let hits_before = metric(&app, "cache_requests_total", &[("tier", "moka"), ("result", "hit")]).await;
    for path in &untouched {
        assert_eq!(nobody.get(path).await.status, StatusCode::OK, "{path}");
    }
    let hits = metric(&app, "cache_requests_total", &[("tier", "moka"), ("result", "hit")]).await - hits_before;
    assert_eq!(
        hits,
        untouched.len() as f64,
        "another pandal's page, the pandal list and another search were answered from the cache"
    );
    for path in &showing {
        photo_in(&nobody.get(path).await.json(), new);
    }
    for path in &counting {
        let answer = nobody.get(path).await.json();
        let albums = answer.get("items").or_else(|| answer.get("albums")).expect("albums");
        let shown = albums.as_array().expect("array").iter().find(|a| a["id"] == album).expect("the album is listed");
        assert_eq!(shown["photo_count"], 3, "{path}: {shown}");
    }
}

/// SQLite's word index splits a word at a format character (a soft hyphen pasted from
/// the web, a zero-width joiner in Bengali): a new photo must retire the searches for
/// each piece, which find it there, not only those for the whole word.
#[tokio::test]
async fn a_photo_captioned_across_a_soft_hyphen_shows_in_a_cached_search_for_either_piece() {
    let (app, _db) = common::db::spawn_app_with_db_and(Backend::Sqlite, &[("cache-local-ttl", "60s")]).await;
    let (owner, nobody) = (Api::register(&app, "kumor").await, Api::anonymous(&app));
    let album = album(&owner, "Murti", "public").await;
    let search = "/api/v1/search?q=tuli";
    assert_eq!(nobody.get(search).await.json()["photos"], json!([]), "nothing yet, and now cached");

    let new = photo(&owner, album, 23, "Kumar\u{AD}tuli").await;
    photo_in(&nobody.get(search).await.json(), new);
}

/// An album's page is followed by its thumbnails: the page keeps its photos' rows, and
/// the thumbnails read none of them again (on a festival night those reads were one
/// in twelve of PostgreSQL's milliseconds). A kept row still leaves with its album's
/// visibility.
#[tokio::test]
async fn an_album_page_keeps_its_photos_rows_for_their_thumbnails() {
    let (app, _db) = common::db::spawn_app_with_db_and(Backend::Sqlite, &[("cache-local-ttl", "60s")]).await;
    let (owner, nobody) = (Api::register(&app, "dulal").await, Api::anonymous(&app));
    let album = album(&owner, "Nabami bhog", "public").await;
    let photos = [photo(&owner, album, 21, "bhog").await, photo(&owner, album, 22, "aarti").await];

    assert_eq!(nobody.get(&format!("/api/v1/albums/{album}/photos")).await.status, StatusCode::OK);
    let (misses, hits) = (row_lookups(&app, "miss").await, row_lookups(&app, "hit").await);
    for id in photos {
        assert_eq!(nobody.get(&format!("/media/{id}/thumb")).await.status, StatusCode::OK);
    }
    assert_eq!(row_lookups(&app, "miss").await - misses, 0.0, "the page's rows served its thumbnails");
    assert_eq!(row_lookups(&app, "hit").await - hits, photos.len() as f64);

    let private = owner.patch(&format!("/api/v1/albums/{album}"), json!({ "visibility": "private" })).await;
    assert_eq!(private.status, StatusCode::OK, "{}", private.text());
    for id in photos {
        assert_eq!(nobody.get(&format!("/media/{id}/thumb")).await.status, StatusCode::NOT_FOUND, "photo {id}");
        assert_eq!(owner.get(&format!("/media/{id}/thumb")).await.status, StatusCode::OK, "photo {id}");
    }
}

/// With two replicas, half an album's thumbnails go to the one that did not read its
/// page (on a festival night those row reads were a tenth of PostgreSQL's time): a
/// thumbnail whose row is not kept reads the rows of the photos after it on the page
/// too, and they follow from memory. Kept rows of an album turned private still leave.
#[tokio::test]
async fn a_thumbnail_that_misses_its_row_reads_the_rows_after_it_on_the_page() {
    let (app, _db) = common::db::spawn_app_with_db_and(Backend::Sqlite, &[("cache-local-ttl", "60s")]).await;
    let (owner, nobody) = (Api::register(&app, "tapas").await, Api::anonymous(&app));
    let album = album(&owner, "Bijoya", "public").await;
    let mut photos = Vec::new();
    for seed in [61, 113, 167, 229] {
        photos.push(photo(&owner, album, seed, "kolakuli").await);
    }
    photos.reverse();
    let (misses, hits) = (row_lookups(&app, "miss").await, row_lookups(&app, "hit").await);
    for id in &photos {
        assert_eq!(nobody.get(&format!("/media/{id}/thumb")).await.status, StatusCode::OK, "photo {id}");
    }
    assert_eq!(row_lookups(&app, "miss").await - misses, 1.0, "the newest photo's miss read the page's rows");
    assert_eq!(row_lookups(&app, "hit").await - hits, 3.0);

    let private = owner.patch(&format!("/api/v1/albums/{album}"), json!({ "visibility": "private" })).await;
    assert_eq!(private.status, StatusCode::OK, "{}", private.text());
    for id in &photos {
        assert_eq!(nobody.get(&format!("/media/{id}/thumb")).await.status, StatusCode::NOT_FOUND, "photo {id}");
    }
}

/// A like or a comment changes a photo's counts, which a media request's row does not
/// hold: the rows of the album's photos stay kept (on a festival night, 75 likes a
/// second each retired the rows of a whole album, and its thumbnails read them again).
/// The album turning private still retires them.
#[tokio::test]
async fn likes_and_comments_leave_the_photos_rows_kept() {
    let (app, _db) = common::db::spawn_app_with_db_and(Backend::Sqlite, &[("cache-local-ttl", "60s")]).await;
    let (owner, fan, nobody) =
        (Api::register(&app, "ananda").await, Api::register(&app, "mela").await, Api::anonymous(&app));
    let album = album(&owner, "Dashami", "public").await;
    let photos = [photo(&owner, album, 41, "sindoor").await, photo(&owner, album, 42, "bisarjan").await];
    for id in photos {
        assert_eq!(nobody.get(&format!("/media/{id}/thumb")).await.status, StatusCode::OK);
    }

    assert_eq!(fan.put(&format!("/api/v1/photos/{}/like", photos[0])).await.status, StatusCode::OK);
    let comment = fan.post(&format!("/api/v1/photos/{}/comments", photos[1]), json!({"body": "Asche bochor!"})).await;
    assert_eq!(comment.status, StatusCode::CREATED, "{}", comment.text());
    let misses = row_lookups(&app, "miss").await;
    for id in photos {
        assert_eq!(nobody.get(&format!("/media/{id}/thumb")).await.status, StatusCode::OK);
    }
    assert_eq!(row_lookups(&app, "miss").await - misses, 0.0, "a like and a comment left both rows kept");

    let private = owner.patch(&format!("/api/v1/albums/{album}"), json!({ "visibility": "private" })).await;
    assert_eq!(private.status, StatusCode::OK, "{}", private.text());
    for id in photos {
        assert_eq!(nobody.get(&format!("/media/{id}/thumb")).await.status, StatusCode::NOT_FOUND, "photo {id}");
    }
}

/// What nobody sees of a pandal page or a search is kept for every viewer's answer, and
/// a like on one of its photos no longer reads it all again (on a festival night that
/// was 41 % of PostgreSQL's time: any like on a page's 48 photos retired it): only the
/// changed counts are read, and shown to everyone at once. What changes which photos it
/// holds still retires it.
async fn likes_and_comments_recount_shared_pages_and_leave_what_they_hold(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let (owner, fan, other, nobody) = three_people_and_nobody(&app).await;
    let (pandal, public, [dhunuchi, _]) = festival_album(&db, owner.id(), pujo::db::Visibility::Public).await;
    let pages = [format!("/api/v1/pandals/{pandal}"), "/api/v1/search?q=dhunuchi".to_owned()];
    let counts = |answer: &Value| {
        let seen = photo_in(answer, dhunuchi);
        (seen["like_count"].as_i64(), seen["comment_count"].as_i64(), seen["liked_by_me"].as_bool())
    };
    for path in &pages {
        assert_eq!(counts(&other.get(path).await.json()), (Some(0), Some(0), Some(false)), "{path}");
    }
    let misses = shared_lookups(&app, "miss").await;

    assert_eq!(fan.put(&format!("/api/v1/photos/{dhunuchi}/like")).await.status, StatusCode::OK);
    let comment = fan.post(&format!("/api/v1/photos/{dhunuchi}/comments"), json!({"body": "Darun!"})).await;
    assert_eq!(comment.status, StatusCode::CREATED, "{}", comment.text());
    for path in &pages {
        seen_within(&other, path, "the new counts", |a| counts(&a.json()) == (Some(1), Some(1), Some(false))).await;
        assert_eq!(counts(&nobody.get(path).await.json()), (Some(1), Some(1), Some(false)), "{path}");
        assert_eq!(counts(&fan.get(path).await.json()), (Some(1), Some(1), Some(true)), "{path}: the fan's like");
    }
    assert_eq!(shared_lookups(&app, "miss").await - misses, 0.0, "no page was read again whole");
    assert!(shared_lookups(&app, "recounted").await >= 2.0, "each page's counts were read again");

    // A photo's caption is what it holds: that reads the pages again.
    let edited = owner.patch(&format!("/api/v1/photos/{dhunuchi}"), json!({ "caption": "dhunuchi at dawn" })).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text());
    seen_within(&other, &pages[0], "the new caption", |a| {
        photo_in(&a.json(), dhunuchi)["caption"] == "dhunuchi at dawn"
    })
    .await;
    assert!(shared_lookups(&app, "miss").await - misses >= 1.0, "the page was read again");
    // And the album turning private leaves both pages for everyone but its owner.
    let private = owner.patch(&format!("/api/v1/albums/{public}"), json!({ "visibility": "private" })).await;
    assert_eq!(private.status, StatusCode::OK, "{}", private.text());
    for path in &pages {
        for who in [&other, &fan, &nobody] {
            let text = who.get(path).await.text();
            for shown in ["dhunuchi at dawn", "sindoor khela", "\"Ashtami\""] {
                assert!(!text.contains(shown), "{path} still shows {shown}: {text}");
            }
        }
    }
}

/// On a festival night the 2,000 pandal pages were too many for one process's memory:
/// what nobody sees of a page is kept in Redis too, so a page one replica read is not
/// read from the database again by the other. Redis is never told a location its owner
/// keeps to themselves, nor EXIF nobody is shown: the other replica gives the owner
/// their photo's exact place, read again for them, and everyone else what they may see.
#[tokio::test]
async fn a_pandal_page_read_on_one_replica_is_not_read_again_on_another() {
    use pujo::db::GpsPrivacy;
    let redis = RedisServer::start();
    let t = common::db::fresh(Backend::Postgres, &[("redis-url", &redis.url())]).await;
    let db_url = t.url.clone().expect("PostgreSQL");
    let db = pujo::db::Database::open(&t.config.db, &t.config.data_dir).await.expect("second handle");
    let a = common::db::serve(t.config, t.data).await;
    let (owner, reader, _, _) = three_people_and_nobody(&a).await;
    let b = replica(&db_url, &redis, &[]).await;
    // Registered first: a new account retires every list.
    let (stranger, anyone) = (Api::register(&b, "bhola").await, Api::anonymous(&b));
    let (pandal, album, _) = festival_album(&db, owner.id(), pujo::db::Visibility::Public).await;
    let mut placed = Vec::new();
    for (privacy, caption) in [(GpsPrivacy::Hidden, "ghat at dawn"), (GpsPrivacy::Coarse, "kumortuli lane")] {
        let new = pujo::db::NewPhoto {
            exif: json!({"camera": "Pixel 9", "gps": {"lat": 22.5}}),
            gps_privacy: privacy,
            lat: Some(22.573_456),
            lon: Some(88.363_891),
            ..new_photo(owner.id(), album, caption, placed.len() as u8 + 7)
        };
        placed.push(db.create_photo(&new).await.expect("photo").id);
    }
    let [hidden, coarse] = [placed[0], placed[1]];
    let page = format!("/api/v1/pandals/{pandal}");
    let location = |answer: &Value, id| photo_in(answer, id)["location"].clone();

    let seen = reader.get(&page).await.json();
    assert_eq!(location(&seen, hidden), Value::Null, "{seen}");
    let client = redis::Client::open(redis.url()).expect("client");
    let mut redis_conn = client.get_multiplexed_async_connection().await.expect("connect");
    let keys: Vec<String> = redis::cmd("KEYS").arg("pujo:*:h:*").query_async(&mut redis_conn).await.expect("keys");
    assert_eq!(keys.len(), 1, "the page's shared part: {keys:?}");
    let deflated: Vec<u8> = redis::cmd("GET").arg(&keys[0]).query_async(&mut redis_conn).await.expect("get");
    let mut stored = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&deflated[..]), &mut stored).expect("gzip");
    for secret in ["22.573456", "88.363891", "\"gps\""] {
        assert!(!stored.contains(secret), "Redis was told {secret}: {stored}");
    }
    assert!(stored.contains("22.57") && stored.contains("ghat at dawn"), "{stored}");

    let (loads, from_redis) = (
        shared_lookups(&b, "miss").await,
        metric(&b, "cache_requests_total", &[("tier", "shared_redis"), ("result", "hit")]).await,
    );
    for who in [&stranger, &anyone] {
        let seen = who.get(&page).await.json();
        assert_eq!(location(&seen, hidden), Value::Null, "{seen}");
        assert_eq!(location(&seen, coarse), json!({"lat": 22.57, "lon": 88.36, "precision": "coarse"}), "{seen}");
        assert_eq!(photo_in(&seen, coarse)["exif"], json!({"camera": "Pixel 9"}), "{seen}");
    }
    let own = on(&b, &owner).get(&page).await.json();
    for id in [hidden, coarse] {
        assert_eq!(location(&own, id), json!({"lat": 22.573_456, "lon": 88.363_891, "precision": "exact"}), "{own}");
    }
    assert_eq!(shared_lookups(&b, "miss").await - loads, 0.0, "the other replica read nothing of it again");
    assert!(
        metric(&b, "cache_requests_total", &[("tier", "shared_redis"), ("result", "hit")]).await - from_redis >= 1.0,
        "it came from Redis"
    );
}

/// A phone's upload can take minutes to arrive. An album moved to another pandal
/// meanwhile: the new photo must retire the page of the pandal the album is in when the
/// photo is, not the one it was in when the upload began.
#[tokio::test]
async fn a_photo_uploaded_while_its_album_moves_shows_on_the_new_pandals_page() {
    let (app, db) = common::db::spawn_app_with_db_and(Backend::Sqlite, &[("cache-local-ttl", "60s")]).await;
    let (owner, nobody) = (Api::register(&app, "shilpi").await, Api::anonymous(&app));
    let (_, album, _) = festival_album_at(&db, owner.id(), pujo::db::Visibility::Public, "Ahiritola").await;
    let (there, _, _) = festival_album_at(&db, owner.id(), pujo::db::Visibility::Public, "Kumartuli Park").await;

    let photo = jpeg(11);
    let upload = common::HeldUpload::start(&app, &owner.cookie.clone().expect("session"), album).await;
    upload.send(bytes::Bytes::copy_from_slice(&photo[..photo.len() / 2])).await;
    // The upload has begun (its album read) when its first bytes reach the temp folder.
    let temp = app.data.path().join("tmp");
    let begun = eventually(Duration::from_secs(10), || async {
        std::fs::read_dir(&temp).map(|d| d.filter_map(Result::ok).next().is_some()).unwrap_or(false)
    })
    .await;
    assert!(begun, "the upload began");

    let moved = owner.patch(&format!("/api/v1/albums/{album}"), json!({ "pandal_id": there })).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    let page = format!("/api/v1/pandals/{there}");
    assert!(nobody.get(&page).await.text().contains("\"Ashtami\""), "the album is on its new pandal's page");

    upload.send(bytes::Bytes::copy_from_slice(&photo[photo.len() / 2..])).await;
    assert_eq!(upload.finish().await.status(), StatusCode::CREATED);
    let newest = db.photo_feed(pujo::db::NOBODY, Some(there), pujo::db::PageRequest { before: None, limit: 1 });
    let new = newest.await.expect("feed").items[0].id;
    photo_in(&nobody.get(&page).await.json(), new);
}

/// Lists and search keep their answers longer now (a like no longer retires them), so
/// an album turning private must still leave every one of them, for everyone but its
/// owner, with the answer to the change.
async fn an_album_made_private_leaves_every_cached_list_at_once(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let (owner, fan, nobody) =
        (Api::register(&app, "lakshmi").await, Api::register(&app, "pecha").await, Api::anonymous(&app));
    let (pandal, album, _) = festival_album(&db, owner.id(), pujo::db::Visibility::Public).await;
    let lists = [
        "/api/v1/photos".to_owned(),
        format!("/api/v1/pandals/{pandal}"),
        "/api/v1/search?q=dhunuchi".to_owned(),
        "/api/v1/search?q=ashtami".to_owned(),
        "/api/v1/albums".to_owned(),
        format!("/api/v1/albums?pandal={pandal}"),
        "/api/v1/users/lakshmi".to_owned(),
    ];
    for path in &lists {
        for who in [&nobody, &fan, &owner] {
            let text = who.get(path).await.text();
            assert!(text.contains("\"Ashtami\"") || text.contains("dhunuchi naach"), "{path}: {text}");
        }
    }
    let changed = owner.patch(&format!("/api/v1/albums/{album}"), json!({"visibility": "private"})).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    for path in &lists {
        for who in [&nobody, &fan] {
            let text = who.get(path).await.text();
            for shown in ["Ashtami", "dhunuchi naach", "sindoor khela"] {
                assert!(!text.contains(shown), "{path} still shows {shown}: {text}");
            }
        }
        // The feed is of public photos only, for everyone.
        if path != "/api/v1/photos" {
            let own = owner.get(path).await.text();
            assert!(
                own.contains("Ashtami") || own.contains("dhunuchi naach"),
                "the owner still sees it: {path}: {own}"
            );
        }
    }
}

/// Once `app` hears its cache bus (nothing is kept before): an owner of public
/// photos, a fan, someone else, and nobody.
async fn three_people_and_nobody(app: &TestApp) -> (Api<'_>, Api<'_>, Api<'_>, Api<'_>) {
    let listening = eventually(Duration::from_secs(10), || async {
        get(&app.url("/health"), &[]).await.json()["checks"]["cache_bus"]["status"] == "ok"
    })
    .await;
    assert!(listening, "the cache bus is heard");
    (
        Api::register(app, "kalyani").await,
        Api::register(app, "bapi").await,
        Api::register(app, "tuktuki").await,
        Api::anonymous(app),
    )
}

/// The `tier="rows"` lookups (media requests' photo rows) with `result` so far.
async fn row_lookups(app: &TestApp, result: &str) -> f64 {
    metric(app, "cache_requests_total", &[("tier", "rows"), ("result", result)]).await
}

/// The `tier="shared"` lookups with `result` so far.
async fn shared_lookups(app: &TestApp, result: &str) -> f64 {
    metric(app, "cache_requests_total", &[("tier", "shared"), ("result", result)]).await
}

/// A logged-in visitor's search answer is their own (their likes, their private
/// albums' photos), but its costly part is everyone's: what nobody finds for the same
/// words is read once and shared by every viewer's search (on a festival night the
/// participants' searches of words that never meet were a third of PostgreSQL's time),
/// and a new photo those words find retires it.
async fn logged_in_searches_share_what_everyone_finds_and_add_their_own(backend: Backend) {
    let (app, _db) = spawn_app_with_db(backend).await;
    let (owner, fan, other, nobody) = three_people_and_nobody(&app).await;
    let public = album(&owner, "Saptami", "public").await;
    let shared = photo(&owner, public, 31, "dhunuchi naach").await;
    let home = album(&fan, "Barir pujo", "private").await;
    let mine = photo(&fan, home, 90, "dhunuchi at home").await;
    assert_eq!(fan.put(&format!("/api/v1/photos/{shared}/like")).await.status, StatusCode::OK);
    let (misses, hits) = (shared_lookups(&app, "miss").await, shared_lookups(&app, "hit").await);
    let ids = |answer: &Value| -> Vec<i64> {
        answer["photos"].as_array().expect("photos").iter().map(|p| p["id"].as_i64().expect("id")).collect()
    };
    let path = "/api/v1/search?q=dhunuchi";

    let seen = fan.get(path).await.json();
    assert_eq!(ids(&seen), [mine, shared], "the fan's own private photo, then everyone's: {seen}");
    assert_eq!(photo_in(&seen, shared)["liked_by_me"], true, "the fan's like");
    assert_eq!(photo_in(&seen, mine)["liked_by_me"], false);
    assert_eq!(seen["albums"].as_array().expect("albums").len(), 0, "no album's title has the word");
    for who in [&other, &nobody] {
        let seen = who.get(path).await.json();
        assert_eq!(ids(&seen), [shared], "nobody else sees the fan's private photo: {seen}");
        assert_eq!(photo_in(&seen, shared)["liked_by_me"], false, "the fan's like is theirs: {seen}");
    }
    assert_eq!(shared_lookups(&app, "miss").await - misses, 1.0, "what nobody finds was read once");
    assert_eq!(shared_lookups(&app, "hit").await - hits, 2.0, "and served the other two searches");

    // The owner's own search: their photo as its owner sees it (can download the original).
    let own = owner.get("/api/v1/search?q=naach").await.json();
    assert!(photo_in(&own, shared)["urls"]["original"].is_string(), "the owner's view: {own}");

    // The fan's own public photo is shown once; their private album with the word in
    // its title is theirs alone; a page is the newest of everything they may see.
    let open = album(&fan, "Para", "public").await;
    let theirs = photo(&fan, open, 200, "dhunuchi para").await;
    let secret = album(&fan, "Dhunuchi ghore", "private").await;
    let seen = fan.get(path).await.json();
    assert_eq!(ids(&seen), [theirs, mine, shared], "{seen}");
    let albums = |v: &Value| -> Vec<i64> {
        v["albums"].as_array().expect("albums").iter().map(|a| a["id"].as_i64().expect("id")).collect()
    };
    assert_eq!(albums(&seen), [secret]);
    assert_eq!(albums(&other.get(path).await.json()), Vec::<i64>::new(), "another's private album");
    let page = fan.get(&format!("{path}&limit=2")).await.json();
    assert_eq!(ids(&page), [theirs, mine], "{page}");

    let new = photo(&owner, public, 160, "dhunuchi again").await;
    seen_within(&fan, path, "a new photo the words find", |a| {
        a.json()["photos"].as_array().is_some_and(|p| p.iter().any(|p| p["id"] == new))
    })
    .await;
}

/// A pandal's page for a logged-in visitor is theirs too (their private album on it,
/// their likes), and what nobody sees of it is read once for every viewer: a pandal's
/// page for the participants of a festival night cost PostgreSQL as much as everyone
/// else's.
async fn logged_in_pandal_pages_share_what_everyone_sees_and_add_their_own(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let (owner, fan, other, nobody) = three_people_and_nobody(&app).await;
    let (pandal, public, [dhunuchi, _]) = festival_album(&db, owner.id(), pujo::db::Visibility::Public).await;
    let home = album(&fan, "Barir thakur", "private").await;
    let moved = fan.patch(&format!("/api/v1/albums/{home}"), json!({ "pandal_id": pandal })).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    let mine = photo(&fan, home, 90, "ghorer pratima").await;
    assert_eq!(fan.put(&format!("/api/v1/photos/{dhunuchi}/like")).await.status, StatusCode::OK);
    let (misses, hits) = (shared_lookups(&app, "miss").await, shared_lookups(&app, "hit").await);
    let ids = |answer: &Value, what: &str| -> Vec<i64> {
        answer[what].as_array().expect("list").iter().map(|p| p["id"].as_i64().expect("id")).collect()
    };
    let page = format!("/api/v1/pandals/{pandal}");

    let seen = fan.get(&page).await.json();
    assert_eq!(ids(&seen, "albums"), [home, public], "{seen}");
    assert_eq!(ids(&seen, "photos")[0], mine, "the fan's own photo, newest: {seen}");
    assert_eq!(photo_in(&seen, dhunuchi)["liked_by_me"], true, "the fan's like");
    for who in [&other, &nobody] {
        let seen = who.get(&page).await.json();
        assert_eq!(ids(&seen, "albums"), [public], "nobody else sees the fan's private album: {seen}");
        assert!(!ids(&seen, "photos").contains(&mine), "nor its photo: {seen}");
        assert_eq!(photo_in(&seen, dhunuchi)["liked_by_me"], false, "the fan's like is theirs: {seen}");
    }
    assert_eq!(shared_lookups(&app, "miss").await - misses, 1.0, "what nobody sees was read once");
    assert_eq!(shared_lookups(&app, "hit").await - hits, 2.0, "and served the other two pages");

    let new = photo(&owner, public, 160, "dhak").await;
    seen_within(&fan, &page, "a new photo on the pandal", |a| {
        a.json()["photos"].as_array().is_some_and(|p| p.iter().any(|p| p["id"] == new))
    })
    .await;
}
