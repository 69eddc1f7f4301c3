//! Share links, on SQLite and on PostgreSQL: a link opens exactly its album, its
//! photos and their media, to anybody holding it, until it expires or is revoked; a
//! password is asked once per browser and guessed slowly; downloads only when the
//! link allows them, and then stripped of location.

use crate::common;

use common::api::Api;
use common::db::{Backend, spawn_app_with_db};
use common::images::Jpeg;
use http::StatusCode;
use pujo::db::{AuditFilter, Database, PageRequest};
use serde_json::{Value, json};

per_backend!(Backend { sqlite: Sqlite, postgres: Postgres } [
    a_link_opens_its_album_and_nothing_else_until_it_is_revoked,
    a_password_is_asked_once_per_browser_and_guessed_slowly,
    downloads_only_when_the_link_allows_and_then_without_location,
    an_expired_link_says_so_and_opens_nothing,
    only_the_owner_makes_and_sees_links_and_bad_terms_are_422,
]);

const KOLKATA: (f64, f64) = (22.5726, 88.3639);

async fn album(owner: &Api<'_>, title: &str, visibility: &str) -> i64 {
    let answer = owner.post("/api/v1/albums", json!({"title": title, "visibility": visibility})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    answer.json()["id"].as_i64().expect("id")
}

/// Uploads a JPEG with a GPS position; its photo id.
async fn photo(owner: &Api<'_>, album: i64, seed: u8) -> i64 {
    let bytes = Jpeg { gps: Some(KOLKATA), seed, ..Jpeg::default() }.encode();
    let answer = owner.upload(album, &[("pandal.jpg", &bytes)], None).await;
    assert!(answer.status.is_success(), "{}", answer.text());
    let photos = owner.get(&format!("/api/v1/albums/{album}/photos")).await.json();
    photos["items"][0]["id"].as_i64().expect("id")
}

async fn share(owner: &Api<'_>, album: i64, terms: Value) -> Value {
    let made = owner.post(&format!("/api/v1/albums/{album}/shares"), terms).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    assert_eq!(made.header("cache-control"), "private, no-store");
    made.json()
}

fn token(link: &Value) -> String {
    link["token"].as_str().expect("the token, once").to_owned()
}

fn ids(items: &Value) -> Vec<i64> {
    items.as_array().expect("items").iter().map(|i| i["id"].as_i64().expect("id")).collect()
}

async fn actions(db: &Database) -> Vec<(String, String)> {
    let page = db.audit_page(&AuditFilter::default(), PageRequest { before: None, limit: 100 }).await.expect("audit");
    page.items.into_iter().map(|e| (e.action, e.object_id)).collect()
}

async fn a_link_opens_its_album_and_nothing_else_until_it_is_revoked(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "durga").await;
    let nobody = Api::anonymous(&app);
    let shared = album(&owner, "Sindoor khela", "private").await;
    let first = photo(&owner, shared, 1).await;
    let second = photo(&owner, shared, 2).await;
    let other = album(&owner, "Family only", "private").await;
    let elsewhere = photo(&owner, other, 3).await;
    assert_eq!(nobody.get(&format!("/api/v1/albums/{shared}")).await.status, StatusCode::NOT_FOUND);

    let link = share(&owner, shared, json!({"label": "for the para"})).await;
    let token = token(&link);
    assert_eq!(token.len(), 43);
    assert_eq!(link["url"], format!("/s/{token}"));
    assert_eq!((link["has_password"].clone(), link["allow_download"].clone()), (json!(false), json!(false)));

    // Anybody with the link: the album and its photos, as anybody sees them.
    let opened = nobody.get(&format!("/api/v1/shared/{token}")).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text());
    assert_eq!(opened.header("cache-control"), "private, no-store");
    let opened = opened.json();
    assert_eq!(opened["album"]["title"], "Sindoor khela");
    assert!(opened["album"].get("link_key").is_none(), "{opened}");
    assert_eq!(opened["album"]["can_edit"], false);
    let photos = nobody.get(&format!("/api/v1/shared/{token}/photos")).await.json();
    assert_eq!(ids(&photos["items"]), [second, first]);
    let item = &photos["items"][0];
    assert_eq!(item["urls"]["thumb"], format!("/media/{second}/thumb?share={token}"));
    assert!(item["urls"]["original"].is_null(), "a view-only link: {item}");
    assert!(item["location"].is_null(), "the owner's default hides the location: {item}");
    assert!(item.get("link_key").is_none(), "{item}");
    let page = nobody.get(&format!("/api/v1/shared/{token}/photos?limit=1")).await.json();
    assert_eq!(ids(&page["items"]), [second]);
    let cursor = page["next_cursor"].as_str().expect("a second page");
    assert_eq!(
        ids(&nobody.get(&format!("/api/v1/shared/{token}/photos?limit=1&cursor={cursor}")).await.json()["items"]),
        [first]
    );

    // Its media, asked again each time; nothing of another album, nor the originals.
    let thumb = nobody.get(&format!("/media/{second}/thumb?share={token}")).await;
    assert_eq!(thumb.status, StatusCode::OK);
    assert_eq!(thumb.header("cache-control"), "private, no-cache");
    assert_eq!(nobody.get(&format!("/media/{elsewhere}/thumb?share={token}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(nobody.get(&format!("/media/{second}/original?share={token}")).await.status, StatusCode::NOT_FOUND);
    // The link opens the link's pages, not the album's own API.
    assert_eq!(nobody.get(&format!("/api/v1/photos/{second}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(nobody.get(&format!("/api/v1/albums/{shared}?key={token}")).await.status, StatusCode::NOT_FOUND);
    // Tokens that are not links: 404 whatever their shape.
    for wrong in ["x", &"A".repeat(43), &format!("{token}A"), "..%2F..%2Fetc"] {
        let answer = nobody.get(&format!("/api/v1/shared/{wrong}")).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{wrong}: {}", answer.text());
    }

    // The owner's list never shows a token again.
    let list = owner.get(&format!("/api/v1/albums/{shared}/shares")).await.json();
    assert_eq!(ids(&list["items"]), [link["id"].as_i64().expect("as the test made it")]);
    assert!(list["items"][0].get("token").is_none(), "{list}");

    // Revoked: nothing, from the next request on.
    let revoke = format!("/api/v1/albums/{shared}/shares/{}", link["id"]);
    assert_eq!(owner.delete(&revoke).await.status, StatusCode::NO_CONTENT);
    assert_eq!(owner.delete(&revoke).await.status, StatusCode::NOT_FOUND);
    assert_eq!(nobody.get(&format!("/api/v1/shared/{token}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(nobody.get(&format!("/api/v1/shared/{token}/photos")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(nobody.get(&format!("/media/{second}/thumb?share={token}")).await.status, StatusCode::NOT_FOUND);

    // Recorded, and no token in the record.
    let events = actions(&db).await;
    let mine: Vec<&(String, String)> = events.iter().filter(|(a, _)| a.starts_with("share.")).collect();
    assert_eq!(mine.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(), ["share.revoked", "share.created"]);
    assert!(events.iter().all(|(_, object)| !object.contains(&token)), "{events:?}");
}

async fn a_password_is_asked_once_per_browser_and_guessed_slowly(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "lakshmi").await;
    let nobody = Api::anonymous(&app);
    let id = album(&owner, "Kojagori", "unlisted").await;
    let pic = photo(&owner, id, 4).await;
    let link = share(&owner, id, json!({"password": "pecha-2026"})).await;
    let token = token(&link);
    let link_id = link["id"].as_i64().expect("as the test made it");
    assert_eq!(link["has_password"], true);
    let other_album = album(&owner, "Lokkhi pujo bhog", "private").await;
    let other = share(&owner, other_album, json!({"password": "pecha-2026"})).await;

    for path in [format!("/api/v1/shared/{token}"), format!("/api/v1/shared/{token}/photos")] {
        let answer = nobody.get(&path).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(answer.json()["error"]["code"], "password_required");
    }
    assert_eq!(nobody.get(&format!("/media/{pic}/thumb?share={token}")).await.status, StatusCode::NOT_FOUND);

    let unlock = format!("/api/v1/shared/{token}/unlock");
    let wrong = nobody.post(&unlock, json!({"password": "not-it-at-all"})).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json()["error"]["code"], "unauthorized");
    assert!(wrong.header("set-cookie").is_empty());
    let right = nobody.post(&unlock, json!({"password": "pecha-2026"})).await;
    assert_eq!(right.status, StatusCode::NO_CONTENT, "{}", right.text());
    let set = right.header("set-cookie").to_owned();
    assert!(set.starts_with(&format!("pujo_share_{link_id}=")), "{set}");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    let max_age: u64 = set
        .split("Max-Age=")
        .nth(1)
        .and_then(|s| s.split(';').next())
        .expect("as the test made it")
        .parse()
        .expect("as the test made it");
    assert!((12 * 3600 - 60..=12 * 3600).contains(&max_age), "{set}");
    let grant = set.split(';').next().expect("as the test made it").to_owned();
    let browser = Api { app: &app, cookie: Some(grant.clone()), user: Value::Null };
    assert_eq!(browser.get(&format!("/api/v1/shared/{token}")).await.status, StatusCode::OK);
    let photos = browser.get(&format!("/api/v1/shared/{token}/photos")).await.json();
    assert_eq!(ids(&photos["items"]), [pic]);
    assert_eq!(browser.get(&format!("/media/{pic}/display?share={token}")).await.status, StatusCode::OK);

    // The grant opens its own link only: not another link with the same password, even
    // under that link's cookie name.
    let other_token = other["token"].as_str().expect("as the test made it");
    let value = grant.split_once('=').expect("as the test made it").1;
    let borrowed = format!("pujo_share_{}={value}", other["id"]);
    let thief = Api { app: &app, cookie: Some(borrowed), user: Value::Null };
    assert_eq!(thief.get(&format!("/api/v1/shared/{other_token}")).await.status, StatusCode::UNAUTHORIZED);

    // Guesses are counted whatever their outcome: past ten from one client, even the
    // right password waits.
    for _ in 0..8 {
        assert_eq!(nobody.post(&unlock, json!({"password": "still-guessing"})).await.status, StatusCode::UNAUTHORIZED);
    }
    let limited = nobody.post(&unlock, json!({"password": "pecha-2026"})).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{}", limited.text());
    assert!(!limited.header("retry-after").is_empty());

    // Failures are recorded with the link, never what was typed.
    let events = actions(&db).await;
    let failed = events.iter().filter(|(a, _)| a == "share.unlock_failed").count();
    assert_eq!(failed, 9, "{events:?}");
    assert!(events.iter().all(|(_, o)| !o.contains("still-guessing") && !o.contains("pecha")), "{events:?}");
}

async fn downloads_only_when_the_link_allows_and_then_without_location(backend: Backend) {
    let (app, _db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "kartik").await;
    let nobody = Api::anonymous(&app);
    let id = album(&owner, "Dhunuchi naach", "private").await;
    let pic = photo(&owner, id, 5).await;
    let link = share(&owner, id, json!({"allow_download": true})).await;
    let token = token(&link);
    let photos = nobody.get(&format!("/api/v1/shared/{token}/photos")).await.json();
    let original = photos["items"][0]["urls"]["original"].as_str().expect("downloads allowed").to_owned();
    assert_eq!(original, format!("/media/{pic}/original?share={token}"));
    let got = nobody.get(&original).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert_eq!(got.header("cache-control"), "private, no-cache");
    // The stripped copy: a JPEG whose EXIF (if any) has no GPS.
    assert_eq!(&got.body[..2], &[0xFF, 0xD8]);
    let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&got.body[..]));
    if let Ok(exif) = exif {
        assert!(exif.fields().all(|f| f.ifd_num == exif::In::PRIMARY && f.tag.context() != exif::Context::Gps));
    }
    let owners = owner.get(&format!("/media/{pic}/original")).await;
    assert_ne!(owners.header("etag"), got.header("etag"), "the owner's original is other bytes");
    let gps = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&owners.body[..])).expect("EXIF");
    assert!(gps.fields().any(|f| f.tag.context() == exif::Context::Gps), "the test's photo does carry GPS");
}

async fn an_expired_link_says_so_and_opens_nothing(backend: Backend) {
    let (app, _db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "saraswati").await;
    let nobody = Api::anonymous(&app);
    let id = album(&owner, "Hate khori", "private").await;
    let pic = photo(&owner, id, 6).await;
    let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let soon = soon.format(&time::format_description::well_known::Rfc3339).expect("as the test made it");
    let link = share(&owner, id, json!({"expires_at": soon})).await;
    let token = token(&link);
    assert_eq!(nobody.get(&format!("/api/v1/shared/{token}")).await.status, StatusCode::OK);
    assert_eq!(nobody.get(&format!("/media/{pic}/thumb?share={token}")).await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let gone = nobody.get(&format!("/api/v1/shared/{token}")).await;
    assert_eq!(gone.status, StatusCode::GONE, "{}", gone.text());
    assert_eq!(gone.json()["error"]["code"], "expired");
    assert_eq!(nobody.get(&format!("/api/v1/shared/{token}/photos")).await.status, StatusCode::GONE);
    assert_eq!(
        nobody.post(&format!("/api/v1/shared/{token}/unlock"), json!({"password": "x"})).await.status,
        StatusCode::GONE
    );
    assert_eq!(nobody.get(&format!("/media/{pic}/thumb?share={token}")).await.status, StatusCode::NOT_FOUND);
    let list = owner.get(&format!("/api/v1/albums/{id}/shares")).await.json();
    assert_eq!(list["items"][0]["expired"], true);
}

async fn only_the_owner_makes_and_sees_links_and_bad_terms_are_422(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "ganesh").await;
    let stranger = Api::register(&app, "mushik").await;
    let private = album(&owner, "Ladoo", "private").await;
    let public = album(&owner, "Modak", "public").await;
    assert_eq!(
        stranger.post(&format!("/api/v1/albums/{private}/shares"), json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        stranger.post(&format!("/api/v1/albums/{public}/shares"), json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(stranger.get(&format!("/api/v1/albums/{public}/shares")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        Api::anonymous(&app).get(&format!("/api/v1/albums/{public}/shares")).await.status,
        StatusCode::UNAUTHORIZED
    );
    let link = share(&owner, public, json!({})).await;
    let revoke = format!("/api/v1/albums/{public}/shares/{}", link["id"]);
    assert_eq!(stranger.delete(&revoke).await.status, StatusCode::FORBIDDEN);
    // A link id of one album does not revoke through another.
    assert_eq!(
        owner.delete(&format!("/api/v1/albums/{private}/shares/{}", link["id"])).await.status,
        StatusCode::NOT_FOUND
    );

    let past = "2001-01-01T00:00:00Z";
    let far = (time::OffsetDateTime::now_utc() + time::Duration::days(400))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("as the test made it");
    for (terms, field) in [
        (json!({"password": "short"}), "password"),
        (json!({"label": "x".repeat(81)}), "label"),
        (json!({"label": "a\u{202E}b"}), "label"),
        (json!({"expires_at": past}), "expires_at"),
        (json!({"expires_at": far}), "expires_at"),
        (json!({"expires_at": "next Tuesday"}), "expires_at"),
    ] {
        let answer = owner.post(&format!("/api/v1/albums/{private}/shares"), terms.clone()).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{terms}: {}", answer.text());
        assert!(answer.json()["error"]["fields"].get(field).is_some(), "{terms}: {}", answer.text());
    }
    let unknown = owner.post(&format!("/api/v1/albums/{private}/shares"), json!({"forever": true})).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Bounded per album, counted in the statement that inserts.
    let path = format!("/api/v1/albums/{private}/shares");
    let made = futures_util::future::join_all((0..60).map(|_| owner.post(&path, json!({})))).await;
    let created = made.iter().filter(|a| a.status == StatusCode::CREATED).count();
    assert_eq!(created, pujo::db::SHARE_LINKS_PER_ALBUM as usize);
    assert!(made.iter().all(|a| a.status == StatusCode::CREATED || a.status == StatusCode::UNPROCESSABLE_ENTITY));
    assert!(ids(&owner.get(&format!("/api/v1/albums/{private}/shares")).await.json()["items"]).len() == 50);

    // Straight at the database, many at once: PostgreSQL's READ COMMITTED would let
    // inserts that counted before each other committed all pass, were it not for the
    // album's lock.
    let racing = album(&owner, "Sandesh", "private").await;
    let links: Vec<pujo::db::NewShareLink> = (0..300u32)
        .map(|i| {
            let mut token_hash = [7u8; 32];
            token_hash[..4].copy_from_slice(&i.to_be_bytes());
            pujo::db::NewShareLink {
                album_id: racing,
                token_hash,
                label: String::new(),
                password_hash: None,
                allow_download: false,
                expires_at: None,
                created_by: owner.id(),
            }
        })
        .collect();
    let made = futures_util::future::join_all(links.iter().map(|l| db.create_share_link(l))).await;
    let created = made.into_iter().map(|r| r.expect("no error")).filter(Option::is_some).count();
    assert_eq!(created, pujo::db::SHARE_LINKS_PER_ALBUM as usize);
    assert_eq!(db.share_links(racing).await.expect("links").len(), 50);
}
