//! Reports and pandal moderators, on SQLite and on PostgreSQL: anyone who can see a
//! photo or a comment reports it; the album's owner, its pandal's moderators and
//! admins act on it; a removal is gone everywhere at once; a moderator acts in their
//! pandal's albums and nowhere else.

use crate::common;

use common::TestApp;
use common::api::Api;
use common::db::{Backend, spawn_app_with_db};
use common::images::Jpeg;
use http::StatusCode;
use pujo::db::{AuditFilter, Database, PageRequest, Role};
use serde_json::{Value, json};

per_backend!(Backend { sqlite: Sqlite, postgres: Postgres } [
    anyone_reports_and_the_owner_removes_what_was_reported_everywhere,
    a_moderator_acts_in_their_pandal_and_nowhere_else,
    a_report_follows_its_target_and_a_moderators_links_go_with_the_role,
    banning_a_guest_link_revokes_it_and_removes_the_photo,
    a_pandals_review_queue_gathers_its_albums_for_its_moderators,
]);

async fn album(owner: &Api<'_>, title: &str, pandal: Option<i64>) -> i64 {
    let body = json!({"title": title, "visibility": "public", "pandal_id": pandal});
    let answer = owner.post("/api/v1/albums", body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    answer.json()["id"].as_i64().expect("id")
}

async fn photo(owner: &Api<'_>, album: i64, seed: u8) -> i64 {
    let bytes = Jpeg { seed, width: 320 + u32::from(seed) * 4, ..Jpeg::default() }.encode();
    let answer = owner.upload(album, &[("p.jpg", &bytes)], None).await;
    assert!(answer.status.is_success(), "{}", answer.text());
    answer.json()["items"][0]["id"].as_i64().expect("id")
}

async fn pandal(db: &Database, name: &str) -> i64 {
    common::db::bagbazar_pandal(db, name).await
}

/// A person made an admin, logged in again (their session carries the role).
async fn admin<'a>(app: &'a TestApp, db: &Database, name: &str) -> Api<'a> {
    Api::register(app, name).await;
    assert!(db.set_role(name, Role::Admin).await.expect("as the test made it"));
    Api::with_session(app, &Api::login(app, name, "shiuli-phool-2026").await)
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"].as_array().expect("items").iter().map(|i| i["id"].as_i64().expect("id")).collect()
}

async fn actions(db: &Database) -> Vec<String> {
    let page = db.audit_page(&AuditFilter::default(), PageRequest { before: None, limit: 100 }).await.expect("audit");
    page.items.into_iter().map(|e| e.action).collect()
}

async fn anyone_reports_and_the_owner_removes_what_was_reported_everywhere(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "barowari").await;
    let fan = Api::register(&app, "darshanarthi").await;
    let nobody = Api::anonymous(&app);
    let id = album(&owner, "Ashtami", None).await;
    let pic = photo(&owner, id, 1).await;
    let comment =
        fan.post(&format!("/api/v1/photos/{pic}/comments"), json!({"body": "buy cheap watches"})).await.json();
    let comment = comment["id"].as_i64().expect("as the test made it");

    // Anyone who can see it reports it, once while their report is open.
    let first =
        nobody.post(&format!("/api/v1/photos/{pic}/report"), json!({"reason": "private", "note": "my face"})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    assert_eq!(
        nobody.post(&format!("/api/v1/photos/{pic}/report"), json!({"reason": "private"})).await.status,
        StatusCode::OK
    );
    assert_eq!(
        fan.post(&format!("/api/v1/photos/{pic}/report"), json!({"reason": "abuse"})).await.status,
        StatusCode::CREATED
    );
    let on_comment = owner.post(&format!("/api/v1/comments/{comment}/report"), json!({"reason": "spam"})).await;
    assert_eq!(on_comment.status, StatusCode::CREATED);
    let bad = nobody.post(&format!("/api/v1/photos/{pic}/report"), json!({"reason": "boring"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        nobody.post("/api/v1/photos/999999/report", json!({"reason": "spam"})).await.status,
        StatusCode::NOT_FOUND
    );

    // The owner sees them, with what they are about and nothing of who made them.
    let open = owner.get("/api/v1/reports").await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.text());
    let open = open.json();
    assert_eq!(open["items"].as_array().expect("as the test made it").len(), 3);
    let on_photo: Vec<&Value> = open["items"]
        .as_array()
        .expect("as the test made it")
        .iter()
        .filter(|r| r["target"]["kind"] == "photo")
        .collect();
    assert_eq!(on_photo.len(), 2);
    assert_eq!(on_photo[1]["note"], "my face");
    assert_eq!(on_photo[1]["target"]["thumb"], format!("/media/{pic}/thumb"));
    // Who reported is never shown: not the member, not the visitor's address.
    assert!(!open.to_string().contains("darshanarthi") && !open.to_string().contains("127.0.0"), "{open}");
    let by: Vec<bool> = on_photo.iter().map(|r| r["by_member"].as_bool().expect("as the test made it")).collect();
    assert_eq!(by, [true, false]);
    let about_comment = open["items"]
        .as_array()
        .expect("as the test made it")
        .iter()
        .find(|r| r["target"]["kind"] == "comment")
        .expect("as the test made it");
    assert_eq!(about_comment["target"]["text"], "buy cheap watches");
    // Nobody else does.
    assert!(ids(&fan.get("/api/v1/reports").await.json()).is_empty());
    assert_eq!(nobody.get("/api/v1/reports").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        fan.post(&format!("/api/v1/reports/{}", on_photo[0]["id"]), json!({"action": "remove"})).await.status,
        StatusCode::FORBIDDEN
    );

    // The comment's report dismissed; the photo removed: every report of it closes,
    // and it is gone from lists, pages and media at once.
    let dismissed = owner.post(&format!("/api/v1/reports/{}", about_comment["id"]), json!({"action": "dismiss"})).await;
    assert_eq!(dismissed.status, StatusCode::OK);
    assert_eq!(nobody.get(&format!("/media/{pic}/thumb")).await.status, StatusCode::OK);
    assert_eq!(ids(&nobody.get(&format!("/api/v1/albums/{id}/photos")).await.json()), [pic]);
    let removed = owner.post(&format!("/api/v1/reports/{}", on_photo[0]["id"]), json!({"action": "remove"})).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text());
    assert_eq!(removed.json()["closed"], 2);
    assert!(ids(&nobody.get(&format!("/api/v1/albums/{id}/photos")).await.json()).is_empty());
    assert_eq!(nobody.get(&format!("/api/v1/photos/{pic}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(nobody.get(&format!("/media/{pic}/thumb")).await.status, StatusCode::NOT_FOUND);
    assert!(ids(&owner.get("/api/v1/reports").await.json()).is_empty());
    let again = owner.post(&format!("/api/v1/reports/{}", on_photo[1]["id"]), json!({"action": "remove"})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let events = actions(&db).await;
    assert!(events.contains(&"moderation.photo_removed".to_owned()), "{events:?}");
    assert!(events.contains(&"moderation.report_dismissed".to_owned()), "{events:?}");
}

async fn a_moderator_acts_in_their_pandal_and_nowhere_else(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let boss = admin(&app, &db, "sabhapati").await;
    let owner = Api::register(&app, "committee").await;
    let moderator = Api::register(&app, "swechhasebak").await;
    let (ours, theirs) = (pandal(&db, "Bagbazar Sarbojanin").await, pandal(&db, "Kumartuli Park").await);
    let in_ours = album(&owner, "Bagbazar night", Some(ours)).await;
    let in_theirs = album(&owner, "Kumartuli night", Some(theirs)).await;
    let (a, b) = (photo(&owner, in_ours, 2).await, photo(&owner, in_theirs, 3).await);
    let (extra, other) = (photo(&owner, in_ours, 4).await, photo(&owner, in_theirs, 5).await);

    // Only admins grant the role.
    let grant = format!("/api/v1/pandals/{ours}/moderators/swechhasebak");
    assert_eq!(owner.put(&grant).await.status, StatusCode::FORBIDDEN);
    assert_eq!(boss.put(&grant).await.status, StatusCode::NO_CONTENT);
    let list = boss.get(&format!("/api/v1/pandals/{ours}/moderators")).await.json();
    assert_eq!(list["items"][0]["username"], "swechhasebak");

    // In their pandal: reports, removals, the review queue and upload links.
    let nobody = Api::anonymous(&app);
    nobody.post(&format!("/api/v1/photos/{a}/report"), json!({"reason": "abuse"})).await;
    nobody.post(&format!("/api/v1/photos/{b}/report"), json!({"reason": "abuse"})).await;
    let theirs_to_act = moderator.get("/api/v1/reports").await.json();
    assert_eq!(theirs_to_act["items"].as_array().expect("as the test made it").len(), 1, "{theirs_to_act}");
    assert_eq!(theirs_to_act["items"][0]["target"]["id"], a);
    assert_eq!(moderator.delete(&format!("/api/v1/photos/{extra}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(moderator.get(&format!("/api/v1/albums/{in_ours}/review")).await.status, StatusCode::OK);
    assert_eq!(
        moderator.post(&format!("/api/v1/albums/{in_ours}/upload-links"), json!({})).await.status,
        StatusCode::CREATED
    );
    // Elsewhere: refused.
    assert_eq!(moderator.delete(&format!("/api/v1/photos/{other}")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(moderator.get(&format!("/api/v1/albums/{in_theirs}/review")).await.status, StatusCode::FORBIDDEN);
    let report_b = boss.get("/api/v1/reports").await.json()["items"]
        .as_array()
        .expect("as the test made it")
        .iter()
        .find(|r| r["target"]["id"] == b)
        .expect("as the test made it")["id"]
        .clone();
    let refused = moderator.post(&format!("/api/v1/reports/{report_b}"), json!({"action": "remove"})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // A person's private album is theirs alone, even in a pandal the moderator has.
    let private =
        owner.post("/api/v1/albums", json!({"title": "Family", "visibility": "private", "pandal_id": ours})).await;
    let private = private.json()["id"].as_i64().expect("as the test made it");
    assert_eq!(moderator.get(&format!("/api/v1/albums/{private}/review")).await.status, StatusCode::NOT_FOUND);

    // Revoked: nothing more, at once.
    assert_eq!(boss.delete(&grant).await.status, StatusCode::NO_CONTENT);
    assert_eq!(moderator.get(&format!("/api/v1/albums/{in_ours}/review")).await.status, StatusCode::FORBIDDEN);
    assert!(ids(&moderator.get("/api/v1/reports").await.json()).is_empty());
    let events = actions(&db).await;
    for expected in ["role.moderator_granted", "role.moderator_revoked", "moderation.photo_removed"] {
        assert!(events.contains(&expected.to_owned()), "{expected}: {events:?}");
    }
}

async fn banning_a_guest_link_revokes_it_and_removes_the_photo(backend: Backend) {
    let (app, _db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "sarbojanin").await;
    let id = album(&owner, "Guests", None).await;
    let link = owner.post(&format!("/api/v1/albums/{id}/upload-links"), json!({"needs_review": false})).await.json();
    let token = link["token"].as_str().expect("as the test made it").to_owned();
    let bytes = Jpeg { seed: 9, width: 360, ..Jpeg::default() }.encode();
    let (content_type, body) = common::api::multipart(&[("p.jpg", &bytes)], None);
    let origin = format!("http://{}", app.addr);
    let proof = common::guest_proof(&app).await;
    let headers = [("origin", origin.as_str()), ("content-type", content_type.as_str()), ("x-pujo-proof", &proof)];
    let sent = common::send("POST", &app.url(&format!("/api/v1/guest/{token}/photos")), &headers, body.clone()).await;
    let pic = sent.json()["items"][0]["id"].as_i64().expect("approved at once");
    let nobody = Api::anonymous(&app);
    assert_eq!(
        nobody.post(&format!("/api/v1/photos/{pic}/report"), json!({"reason": "abuse"})).await.status,
        StatusCode::CREATED
    );
    let report = owner.get("/api/v1/reports").await.json()["items"][0].clone();
    assert_eq!(report["target"]["from_guest_link"], true);
    let banned = owner.post(&format!("/api/v1/reports/{}", report["id"]), json!({"action": "ban_link"})).await;
    assert_eq!(banned.status, StatusCode::OK, "{}", banned.text());
    assert_eq!(nobody.get(&format!("/api/v1/photos/{pic}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(nobody.get(&format!("/api/v1/guest/{token}")).await.status, StatusCode::NOT_FOUND);
    let again = common::send("POST", &app.url(&format!("/api/v1/guest/{token}/photos")), &headers, body).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

/// Found by review: a report's reviewers acted on (and saw the key of) the album a
/// photo was moved to; a moderator's upload link outlived the role.
async fn a_report_follows_its_target_and_a_moderators_links_go_with_the_role(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let boss = admin(&app, &db, "sampadak").await;
    let owner = Api::register(&app, "para-club").await;
    let moderator = Api::register(&app, "rakshak").await;
    let ours = pandal(&db, "Simla Byayam Samiti").await;
    let public = album(&owner, "In the pandal", Some(ours)).await;
    let hidden = owner.post("/api/v1/albums", json!({"title": "Elsewhere", "visibility": "unlisted"})).await.json();
    let (hidden, hidden_key) = (
        hidden["id"].as_i64().expect("as the test made it"),
        hidden["link_key"].as_str().expect("as the test made it").to_owned(),
    );
    assert_eq!(boss.put(&format!("/api/v1/pandals/{ours}/moderators/rakshak")).await.status, StatusCode::NO_CONTENT);
    let pic = photo(&owner, public, 20).await;
    assert_eq!(
        moderator.post(&format!("/api/v1/photos/{pic}/report"), json!({"reason": "spam"})).await.status,
        StatusCode::CREATED
    );
    // The owner moves it into an unlisted album of no pandal.
    let moved = owner.patch(&format!("/api/v1/photos/{pic}"), json!({"album_id": hidden})).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    let seen = moderator.get("/api/v1/reports").await.json();
    assert_eq!(seen["items"].as_array().expect("as the test made it").len(), 1);
    assert!(!seen.to_string().contains(&hidden_key), "the new album's key reached a moderator: {seen}");
    assert!(seen["items"][0]["target"]["photo_id"].is_null(), "{seen}");
    let act = moderator.post(&format!("/api/v1/reports/{}", seen["items"][0]["id"]), json!({"action": "remove"})).await;
    // The album it is in now is not one the moderator may even see.
    assert_eq!(act.status, StatusCode::NOT_FOUND, "{}", act.text());
    assert_eq!(owner.get(&format!("/api/v1/photos/{pic}")).await.status, StatusCode::OK, "still there");

    // A moderator's links always wait for review, and end with the role.
    let open = moderator.post(&format!("/api/v1/albums/{public}/upload-links"), json!({"needs_review": false})).await;
    assert_eq!(open.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", open.text());
    let link = moderator.post(&format!("/api/v1/albums/{public}/upload-links"), json!({})).await.json();
    let token = link["token"].as_str().expect("as the test made it").to_owned();
    let nobody = Api::anonymous(&app);
    assert_eq!(nobody.get(&format!("/api/v1/guest/{token}")).await.status, StatusCode::OK);
    assert_eq!(boss.delete(&format!("/api/v1/pandals/{ours}/moderators/rakshak")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(nobody.get(&format!("/api/v1/guest/{token}")).await.status, StatusCode::NOT_FOUND);
}

/// A guest's photo, sent through a new upload link of `album` (made by `owner`); its
/// id in the review queue.
async fn guest_photo(owner: &Api<'_>, album: i64, seed: u8) -> i64 {
    let bytes = Jpeg { seed, width: 300 + u32::from(seed), ..Jpeg::default() }.encode();
    let sent = owner.through_guest_link(album, &bytes).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
    sent.json()["items"][0]["id"].as_i64().expect("waiting")
}

/// A pandal's moderators review what guests sent to all its albums from one queue
/// (the pandal's), never a private album's, and decide each in its album.
async fn a_pandals_review_queue_gathers_its_albums_for_its_moderators(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let boss = admin(&app, &db, "kendriya").await;
    let ours = pandal(&db, "Bagbazar Sarbojanin").await;
    let theirs = pandal(&db, "Kumartuli Park").await;
    let club = Api::register(&app, "bagbazar-club").await;
    let family = Api::register(&app, "bose-bari").await;
    let (first, second) = (album(&club, "Gate", Some(ours)).await, album(&family, "Aarati", Some(ours)).await);
    let private = album(&family, "Family only", Some(ours)).await;
    assert!(
        family.patch(&format!("/api/v1/albums/{private}"), json!({"visibility": "private"})).await.status.is_success()
    );
    let elsewhere = album(&club, "Elsewhere", Some(theirs)).await;
    let waiting = [
        guest_photo(&club, first, 1).await,
        guest_photo(&family, second, 2).await,
        guest_photo(&family, private, 3).await,
        guest_photo(&club, elsewhere, 4).await,
    ];
    let moderator = Api::register(&app, "rakshi").await;
    let queue = format!("/api/v1/pandals/{ours}/review");
    assert_eq!(moderator.get(&queue).await.status, StatusCode::FORBIDDEN, "not a moderator yet");
    assert_eq!(Api::anonymous(&app).get(&queue).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(moderator.get("/api/v1/me/moderates").await.json()["pandals"], json!([]));
    assert_eq!(boss.put(&format!("/api/v1/pandals/{ours}/moderators/rakshi")).await.status, StatusCode::NO_CONTENT);
    // The site learns where to link the queue from.
    assert_eq!(moderator.get("/api/v1/me/moderates").await.json()["pandals"], json!([ours]));

    // The pandal's two albums that are not private, newest first; nothing of the
    // private album or of another pandal.
    let page = moderator.get(&queue).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let page = page.json();
    assert_eq!(ids(&page), [waiting[1], waiting[0]]);
    assert_eq!(page["items"][0]["album_id"], second);
    assert_eq!(ids(&boss.get(&queue).await.json()), [waiting[1], waiting[0]], "admins too");
    assert_eq!(moderator.get(&format!("/api/v1/pandals/{theirs}/review")).await.status, StatusCode::FORBIDDEN);

    // Each is decided in its album's queue; then it leaves the pandal's.
    let done = moderator.post(&format!("/api/v1/albums/{second}/review"), json!({"approve": [waiting[1]]})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert_eq!(ids(&moderator.get(&queue).await.json()), [waiting[0]]);
}
