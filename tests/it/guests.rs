//! Guest uploads and their review, on SQLite and on PostgreSQL: people without an
//! account send photos through an album's upload link; the photos wait, seen by the
//! album's owner alone, until approved (then everyone who may see the album sees them,
//! with the guest's name and without a location) or rejected.

use crate::common;

use bytes::Bytes;
use common::api::Api;
use common::db::{Backend, spawn_app_with_db};
use common::images::Jpeg;
use common::{Answer, TestApp};
use http::StatusCode;
use pujo::db::{AuditFilter, Database, PageRequest};
use serde_json::{Value, json};

per_backend!(Backend { sqlite: Sqlite, postgres: Postgres } [
    guests_send_photos_that_wait_for_review_and_appear_once_approved,
    a_link_without_review_adds_photos_at_once_and_caps_hold_per_browser_and_in_total,
    a_revoked_or_expired_link_takes_nothing_and_only_the_owner_manages_links,
    a_pandal_behind_one_address_is_many_guests,
    one_decision_wins_when_reviewers_act_at_once_and_links_are_bounded_under_a_crowd,
    a_guest_sends_resumably_across_a_drop_and_the_upload_is_theirs_alone,
    a_guest_cut_off_while_their_photo_is_made_leaves_no_slot_without_its_photo,
    an_owner_may_keep_where_guests_photos_were_taken,
]);

const KOLKATA: (f64, f64) = (22.5726, 88.3639);

/// A browser with no account: its guest cookie, once it has one.
struct Guest<'a> {
    app: &'a TestApp,
    cookie: Option<String>,
}

impl<'a> Guest<'a> {
    fn new(app: &'a TestApp) -> Guest<'a> {
        Guest { app, cookie: None }
    }

    async fn upload(&mut self, token: &str, seeds: &[u8], name: &str) -> Answer {
        let boundary = "pujo-guest-boundary-5Xx1";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{name}\r\n").as_bytes(),
        );
        for seed in seeds {
            let bytes =
                Jpeg { gps: Some(KOLKATA), seed: *seed, width: 400 + 2 * u32::from(*seed), ..Jpeg::default() }.encode();
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p{seed}.jpg\"\r\n\
                     Content-Type: image/jpeg\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(&bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let origin = format!("http://{}", self.app.addr);
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let mut headers = vec![("origin", origin.as_str()), ("content-type", content_type.as_str())];
        // A browser that is not a guest yet proves a little work first.
        let proof = if self.cookie.is_none() { common::guest_proof(self.app).await } else { String::new() };
        if let Some(cookie) = &self.cookie {
            headers.push(("cookie", cookie));
        } else {
            headers.push(("x-pujo-proof", &proof));
        }
        let url = self.app.url(&format!("/api/v1/guest/{token}/photos"));
        let answer = common::send("POST", &url, &headers, Bytes::from(body)).await;
        let set = answer.header("set-cookie");
        if !set.is_empty() {
            self.cookie = Some(set.split(';').next().unwrap_or("").to_owned());
        }
        answer
    }
}

impl Guest<'_> {
    /// A tus request as this browser: its guest cookie, or (not a guest yet) a proof.
    async fn tus(&mut self, method: &str, path: &str, extra: &[(&str, &str)], body: &[u8]) -> Answer {
        let origin = format!("http://{}", self.app.addr);
        let mut headers = vec![("origin", origin.as_str()), ("tus-resumable", "1.0.0")];
        let proof = if self.cookie.is_none() { common::guest_proof(self.app).await } else { String::new() };
        match &self.cookie {
            Some(cookie) => headers.push(("cookie", cookie)),
            None => headers.push(("x-pujo-proof", &proof)),
        }
        headers.extend_from_slice(extra);
        let answer = common::send(method, &self.app.url(path), &headers, Bytes::copy_from_slice(body)).await;
        let set = answer.header("set-cookie");
        if !set.is_empty() {
            self.cookie = Some(set.split(';').next().unwrap_or("").to_owned());
        }
        answer
    }

    /// Begins a resumable upload of `length` bytes through link `token`.
    async fn begin(&mut self, token: &str, length: usize, name: &str) -> Answer {
        use base64::Engine;
        let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
        let metadata = format!("filename {},guest_name {},caption {}", b64("mandap.jpg"), b64(name), b64("Aarati"));
        let length = length.to_string();
        let path = format!("/api/v1/guest/{token}/uploads");
        self.tus("POST", &path, &[("upload-length", &length), ("upload-metadata", &metadata)], b"").await
    }

    async fn chunk(&mut self, path: &str, offset: usize, bytes: &[u8]) -> Answer {
        let offset = offset.to_string();
        let headers = [("content-type", "application/offset+octet-stream"), ("upload-offset", offset.as_str())];
        self.tus("PATCH", path, &headers, bytes).await
    }
}

async fn album(owner: &Api<'_>, title: &str, visibility: &str) -> i64 {
    let answer = owner.post("/api/v1/albums", json!({"title": title, "visibility": visibility})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    answer.json()["id"].as_i64().expect("id")
}

async fn link(owner: &Api<'_>, album: i64, terms: Value) -> Value {
    let made = owner.post(&format!("/api/v1/albums/{album}/upload-links"), terms).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    made.json()
}

fn token(link: &Value) -> String {
    link["token"].as_str().expect("token").to_owned()
}

fn ids(items: &Value) -> Vec<i64> {
    items.as_array().expect("items").iter().map(|i| i["id"].as_i64().expect("id")).collect()
}

async fn actions(db: &Database) -> Vec<(String, String)> {
    let page = db.audit_page(&AuditFilter::default(), PageRequest { before: None, limit: 100 }).await.expect("audit");
    page.items.into_iter().map(|e| (e.action, e.object_id)).collect()
}

async fn guests_send_photos_that_wait_for_review_and_appear_once_approved(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "barowari").await;
    let nobody = Api::anonymous(&app);
    let id = album(&owner, "Ekdalia Evergreen 2026", "public").await;
    let made = link(&owner, id, json!({"label": "gate poster"})).await;
    assert_eq!(made["needs_review"], true, "review is the default");
    let token = token(&made);
    assert_eq!(made["url"], format!("/g/{token}"));

    // The QR code: an SVG of the whole address, for the owner alone.
    let qr = owner.get(made["qr"].as_str().expect("as the test made it")).await;
    assert_eq!(qr.status, StatusCode::OK);
    assert_eq!(qr.header("content-type"), "image/svg+xml");
    assert!(qr.text().starts_with("<?xml") && qr.text().contains("<svg"), "{}", &qr.text()[..80.min(qr.text().len())]);
    assert_eq!(nobody.get(made["qr"].as_str().expect("as the test made it")).await.status, StatusCode::UNAUTHORIZED);

    // What a guest sees first.
    let opened = nobody.get(&format!("/api/v1/guest/{token}")).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text());
    let opened = opened.json();
    assert_eq!(opened["album"]["title"], "Ekdalia Evergreen 2026");
    assert_eq!(opened["needs_review"], true);

    let mut guest = Guest::new(&app);
    let sent = guest.upload(&token, &[1, 2], "Rumki").await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
    assert!(guest.cookie.as_deref().is_some_and(|c| c.starts_with("pujo_guest=")), "a guest cookie");
    let sent = sent.json();
    assert!(sent["items"].as_array().expect("as the test made it").iter().all(|i| i["status"] == "pending"), "{sent}");
    let pending = ids(&sent["items"]);

    // Waiting: in no list, page, search or count, to anybody, the owner included;
    // only in the owner's review queue, whose images are the owner's alone.
    for who in [&owner, &nobody] {
        assert!(ids(&who.get(&format!("/api/v1/albums/{id}/photos")).await.json()["items"]).is_empty());
        assert!(ids(&who.get("/api/v1/photos").await.json()["items"]).is_empty());
        assert_eq!(who.get(&format!("/api/v1/albums/{id}")).await.json()["photo_count"], 0);
    }
    let queue = owner.get(&format!("/api/v1/albums/{id}/review")).await;
    assert_eq!(queue.status, StatusCode::OK);
    let queue = queue.json();
    let mut waiting = ids(&queue["items"]);
    waiting.sort_unstable();
    let mut expected = pending.clone();
    expected.sort_unstable();
    assert_eq!(waiting, expected);
    assert_eq!(queue["items"][0]["guest_name"], "Rumki");
    assert_eq!(queue["items"][0]["link_label"], "gate poster");
    let display = queue["items"][0]["urls"]["display"].as_str().expect("as the test made it").to_owned();
    assert_eq!(owner.get(&display).await.status, StatusCode::OK);
    assert_eq!(nobody.get(&display).await.status, StatusCode::NOT_FOUND);
    let stranger = Api::register(&app, "pathchakra").await;
    assert_eq!(stranger.get(&display).await.status, StatusCode::NOT_FOUND);
    assert_eq!(stranger.get(&format!("/api/v1/albums/{id}/review")).await.status, StatusCode::FORBIDDEN);
    // Their blobs are held: `pujo blobs gc` would keep them.
    let row = db.pending_photo(pending[0]).await.expect("as the test made it").expect("as the test made it");
    assert!(db.content_in_use(&row.sha256).await.expect("as the test made it"));

    // Approve one, reject the other.
    let (keep, drop) = (pending[0], pending[1]);
    let both = owner.post(&format!("/api/v1/albums/{id}/review"), json!({"approve": [keep], "reject": [keep]})).await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = owner.post(&format!("/api/v1/albums/{id}/review"), json!({"approve": [keep], "reject": [drop]})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    let done = done.json();
    let photo = done["approved"][0]["photo_id"].as_i64().expect("a photo");
    assert_eq!(done["rejected"], json!([drop]));
    let again = owner.post(&format!("/api/v1/albums/{id}/review"), json!({"approve": [keep]})).await.json();
    assert_eq!(again["missing"], json!([keep]));

    // Approved: everybody who may see the album sees it, with who sent it, without a
    // location (the file had one), and owned by the album's owner.
    let photos = nobody.get(&format!("/api/v1/albums/{id}/photos")).await.json();
    assert_eq!(ids(&photos["items"]), [photo]);
    assert_eq!(photos["items"][0]["guest_name"], "Rumki");
    assert!(photos["items"][0]["location"].is_null());
    let own = owner.get(&format!("/api/v1/photos/{photo}")).await.json();
    assert!(own["location"].is_null(), "no location even for the owner: {own}");
    assert_eq!(own["owner"]["username"], "barowari");
    // Not in the original either, not even the owner's: the guest's GPS was never theirs.
    let original = owner.get(&format!("/media/{photo}/original")).await;
    assert_eq!(original.status, StatusCode::OK);
    let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&original.body[..]));
    if let Ok(exif) = exif {
        assert!(exif.fields().all(|f| f.tag.context() != exif::Context::Gps), "GPS in the owner's original");
    }
    assert_eq!(nobody.get(&format!("/api/v1/albums/{id}")).await.json()["photo_count"], 1);
    assert_eq!(nobody.get(&format!("/media/{photo}/thumb")).await.status, StatusCode::OK);
    assert!(ids(&owner.get(&format!("/api/v1/albums/{id}/review")).await.json()["items"]).is_empty());

    let events = actions(&db).await;
    let names: Vec<&str> = events.iter().map(|(a, _)| a.as_str()).filter(|a| !a.starts_with("auth")).collect();
    assert_eq!(names, ["review.rejected", "review.approved", "upload_link.created"]);
    assert!(events.iter().all(|(_, o)| !o.contains(&token)), "{events:?}");
}

async fn a_link_without_review_adds_photos_at_once_and_caps_hold_per_browser_and_in_total(backend: Backend) {
    let (app, _db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "committee").await;
    let nobody = Api::anonymous(&app);
    let id = album(&owner, "Sandhi puja", "public").await;
    let made = link(&owner, id, json!({"needs_review": false, "per_guest": 2, "total": 3})).await;
    let token = token(&made);
    let mut first = Guest::new(&app);
    let sent = first.upload(&token, &[10], "").await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
    assert_eq!(sent.json()["items"][0]["status"], "approved");
    assert_eq!(ids(&nobody.get(&format!("/api/v1/albums/{id}/photos")).await.json()["items"]).len(), 1);
    // A refused file gives its slot back: the link's count stays as it was.
    let junk = {
        let (content_type, body) = common::api::multipart(&[("junk.jpg", b"not a photo at all")], None);
        let origin = format!("http://{}", app.addr);
        let proof = common::guest_proof(&app).await;
        let headers = [("origin", origin.as_str()), ("content-type", content_type.as_str()), ("x-pujo-proof", &proof)];
        common::send("POST", &app.url(&format!("/api/v1/guest/{token}/photos")), &headers, body).await
    };
    assert_eq!(junk.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", junk.text());
    let links = owner.get(&format!("/api/v1/albums/{id}/upload-links")).await.json();
    assert_eq!(links["items"][0]["taken"], 1);
    assert_eq!(first.upload(&token, &[11], "").await.status, StatusCode::CREATED);
    // Two from this browser: its third is refused, whatever the file.
    let over = first.upload(&token, &[12], "").await;
    assert_eq!(over.status, StatusCode::FORBIDDEN, "{}", over.text());
    // Another browser has its own two, but the link takes three in all.
    let mut second = Guest::new(&app);
    assert_eq!(second.upload(&token, &[13], "").await.status, StatusCode::CREATED);
    assert_eq!(second.upload(&token, &[14], "").await.status, StatusCode::FORBIDDEN);
    assert_eq!(ids(&nobody.get(&format!("/api/v1/albums/{id}/photos")).await.json()["items"]).len(), 3);
    let links = owner.get(&format!("/api/v1/albums/{id}/upload-links")).await.json();
    assert_eq!(links["items"][0]["taken"], 3);
}

async fn a_revoked_or_expired_link_takes_nothing_and_only_the_owner_manages_links(backend: Backend) {
    let (app, _db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "puja-committee").await;
    let stranger = Api::register(&app, "outsider").await;
    let nobody = Api::anonymous(&app);
    let id = album(&owner, "Kumari puja", "private").await;
    assert_eq!(
        stranger.post(&format!("/api/v1/albums/{id}/upload-links"), json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    let public = album(&owner, "Bisarjan", "public").await;
    assert_eq!(
        stranger.post(&format!("/api/v1/albums/{public}/upload-links"), json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    for (terms, field) in [
        (json!({"per_guest": 0}), "per_guest"),
        (json!({"total": 100001}), "total"),
        (json!({"expires_at": "2001-01-01T00:00:00Z"}), "expires_at"),
        (json!({"label": "x\ny"}), "label"),
    ] {
        let answer = owner.post(&format!("/api/v1/albums/{id}/upload-links"), terms.clone()).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{terms}");
        assert!(answer.json()["error"]["fields"].get(field).is_some(), "{terms}: {}", answer.text());
    }

    // A private album takes guests' photos too: only its owner ever sees them.
    let made = link(&owner, id, json!({})).await;
    let token = token(&made);
    let mut guest = Guest::new(&app);
    assert_eq!(guest.upload(&token, &[20], "Tuktuki").await.status, StatusCode::CREATED);
    let revoke = format!("/api/v1/albums/{id}/upload-links/{}", made["id"]);
    assert_eq!(stranger.delete(&revoke).await.status, StatusCode::NOT_FOUND);
    assert_eq!(owner.delete(&revoke).await.status, StatusCode::NO_CONTENT);
    assert_eq!(nobody.get(&format!("/api/v1/guest/{token}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(guest.upload(&token, &[21], "Tuktuki").await.status, StatusCode::NOT_FOUND);
    // What it brought still waits, now without a link's label.
    let queue = owner.get(&format!("/api/v1/albums/{id}/review")).await.json();
    assert_eq!(queue["items"].as_array().expect("as the test made it").len(), 1);
    assert!(queue["items"][0]["link_label"].is_null());

    let soon = (time::OffsetDateTime::now_utc() + time::Duration::seconds(2))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("as the test made it");
    let short = self::token(&link(&owner, id, json!({"expires_at": soon})).await);
    assert_eq!(nobody.get(&format!("/api/v1/guest/{short}")).await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let gone = nobody.get(&format!("/api/v1/guest/{short}")).await;
    assert_eq!(gone.status, StatusCode::GONE);
    assert_eq!(guest.upload(&short, &[22], "").await.status, StatusCode::GONE);
}

/// Carrier NAT puts a whole pandal's phones behind one address: each is its own guest
/// (its own cookie), and one address is not one guest.
async fn a_pandal_behind_one_address_is_many_guests(backend: Backend) {
    let (app, _db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "sarbojanin").await;
    let id = album(&owner, "Navami crowd", "public").await;
    let token = token(&link(&owner, id, json!({"per_guest": 1})).await);
    // Becoming a guest costs a proof of work: none, a wrong one, or one used twice is 428.
    let (content_type, body) =
        common::api::multipart(&[("p.jpg", &Jpeg { seed: 99, ..Jpeg::default() }.encode())], None);
    let origin = format!("http://{}", app.addr);
    let url = app.url(&format!("/api/v1/guest/{token}/photos"));
    let base = [("origin", origin.as_str()), ("content-type", content_type.as_str())];
    let none = common::send("POST", &url, &base, body.clone()).await;
    assert_eq!(none.status, StatusCode::PRECONDITION_REQUIRED, "{}", none.text());
    assert_eq!(none.json()["error"]["code"], "proof_required");
    let proof = common::guest_proof(&app).await;
    let (salt, _) = proof.rsplit_once(':').expect("as the test made it");
    let wrong = format!("{salt}:{}", u64::MAX);
    let mut with = base.to_vec();
    with.push(("x-pujo-proof", &wrong));
    assert_eq!(common::send("POST", &url, &with, body.clone()).await.status, StatusCode::PRECONDITION_REQUIRED);
    let mut with = base.to_vec();
    with.push(("x-pujo-proof", &proof));
    assert_eq!(common::send("POST", &url, &with, body.clone()).await.status, StatusCode::CREATED);
    assert_eq!(
        common::send("POST", &url, &with, body).await.status,
        StatusCode::PRECONDITION_REQUIRED,
        "a proof is taken once"
    );
    for seed in 0..25u8 {
        let mut phone = Guest::new(&app);
        let sent = phone.upload(&token, &[100 + seed], "").await;
        assert_eq!(sent.status, StatusCode::CREATED, "phone {seed}: {}", sent.text());
        assert_eq!(
            phone.upload(&token, &[200 + seed], "").await.status,
            StatusCode::FORBIDDEN,
            "phone {seed}'s second"
        );
    }
    let queue = owner.get(&format!("/api/v1/albums/{id}/review?limit=100")).await.json();
    assert_eq!(queue["items"].as_array().expect("as the test made it").len(), 26);
}

/// Found by review: an approval and a rejection at once could both "win" (the photo
/// published although the rejecter was told it was rejected); upload links passed
/// their bound per album under concurrent inserts on PostgreSQL.
async fn one_decision_wins_when_reviewers_act_at_once_and_links_are_bounded_under_a_crowd(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "samiti").await;
    let id = album(&owner, "Crowded", "public").await;
    let token = token(&link(&owner, id, json!({})).await);
    let mut guest = Guest::new(&app);
    let seeds: Vec<u8> = (30..42).collect();
    let sent = guest.upload(&token, &seeds, "").await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
    let pending = ids(&sent.json()["items"]);
    for p in &pending {
        let (approved, rejected) = tokio::join!(db.approve_pending_photo(id, *p), db.reject_pending_photo(id, *p));
        let (approved, rejected) = (approved.expect("approve"), rejected.expect("reject"));
        assert!(approved.is_some() != rejected, "pending {p}: approved {approved:?}, rejected {rejected}");
        match approved {
            Some(photo) => {
                assert!(db.photo_unchecked(photo).await.expect("as the test made it").is_some_and(|p| p.album_id == id))
            }
            None => assert!(
                db.pending_photo(*p).await.expect("as the test made it").is_none(),
                "a rejected photo still waits"
            ),
        }
    }
    let links: Vec<pujo::db::NewUploadLink> = (0..200u32)
        .map(|i| pujo::db::NewUploadLink {
            album_id: id,
            token: format!("crowd-{i:038}"),
            label: String::new(),
            needs_review: true,
            per_guest: None,
            total: None,
            expires_at: None,
            created_by: owner.id(),
            keep_location: false,
        })
        .collect();
    let made = futures_util::future::join_all(links.iter().map(|l| db.create_upload_link(l))).await;
    let created = made.into_iter().map(|r| r.expect("no error")).filter(Option::is_some).count();
    assert_eq!(created + 1, pujo::db::UPLOAD_LINKS_PER_ALBUM as usize, "one link was made before the crowd");
}

/// Guests use the same resumable uploads as everyone: a phone that loses its
/// connection goes on from what arrived. The upload is the browser's (its guest
/// cookie) and nobody else's, the album's owner included; its last byte puts the photo
/// in the review queue with the guest's name and no location. Uploads under way count
/// against the link's caps when one begins, and the caps are taken at the last byte,
/// so an upload whose cap filled meanwhile ends refused.
async fn a_guest_sends_resumably_across_a_drop_and_the_upload_is_theirs_alone(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "bonedi-bari").await;
    let nobody = Api::anonymous(&app);
    let id = album(&owner, "Thakur dalan", "public").await;
    let made = link(&owner, id, json!({"per_guest": 2, "label": "dalan"})).await;
    let token = token(&made);
    let photo = Jpeg { gps: Some(KOLKATA), seed: 40, width: 800, height: 600, ..Jpeg::default() }.encode();

    // No guest cookie and no proof: 428, and nothing made.
    let origin = format!("http://{}", app.addr);
    let bare = common::send(
        "POST",
        &app.url(&format!("/api/v1/guest/{token}/uploads")),
        &[("origin", origin.as_str()), ("tus-resumable", "1.0.0"), ("upload-length", "100")],
        Bytes::new(),
    )
    .await;
    assert_eq!(bare.status, StatusCode::PRECONDITION_REQUIRED, "{}", bare.text());
    assert_eq!(bare.header("tus-resumable"), "1.0.0");

    let mut guest = Guest::new(&app);
    let created = guest.begin(&token, photo.len(), "Tumpa").await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert!(guest.cookie.as_deref().is_some_and(|c| c.starts_with("pujo_guest=")), "a guest cookie");
    let path = created.header("location").to_owned();
    assert!(path.starts_with("/api/v1/uploads/"), "{path}");
    // A second upload begun before the first is done; a third would be more than the
    // cap of two leaves.
    let another = Jpeg { seed: 42, width: 640, height: 480, ..Jpeg::default() }.encode();
    let second = guest.begin(&token, another.len(), "Tumpa").await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text());
    let second = second.header("location").to_owned();
    let third = guest.begin(&token, photo.len(), "Tumpa").await;
    assert_eq!(third.status, StatusCode::FORBIDDEN, "{}", third.text());

    // The upload is this browser's: nobody else's, not the album owner's, not another guest's.
    let head = |who: &Api<'_>| {
        let path = path.clone();
        let app = &app;
        let cookie = who.cookie.clone();
        async move {
            let mut headers = vec![("tus-resumable", "1.0.0")];
            if let Some(c) = &cookie {
                headers.push(("cookie", c.as_str()));
            }
            common::send("HEAD", &app.url(&path), &headers, Bytes::new()).await.status
        }
    };
    assert_eq!(head(&nobody).await, StatusCode::UNAUTHORIZED);
    assert_eq!(head(&owner).await, StatusCode::NOT_FOUND);
    let mut other = Guest::new(&app);
    assert_eq!(other.begin(&token, 10, "").await.status, StatusCode::CREATED, "another browser, a guest now");
    assert_eq!(other.tus("HEAD", &path, &[], b"").await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.chunk(&path, 0, &photo[..100]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.tus("DELETE", &path, &[], b"").await.status, StatusCode::NOT_FOUND);
    // The owner's own unfinished uploads are not the guests': their count stays theirs.
    assert_eq!(db.open_uploads_of(owner.user["id"].as_i64().expect("id")).await.expect("count").0, 0);

    // Half arrives, the connection drops; the guest asks where it stopped and goes on.
    let half = photo.len() / 2;
    // (A second later than its creation, so that an expiry moved on shows in HTTP dates.)
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let first = guest.chunk(&path, 0, &photo[..half]).await;
    assert_eq!(first.status, StatusCode::NO_CONTENT, "{}", first.text());
    let at = guest.tus("HEAD", &path, &[], b"").await;
    assert_eq!((at.status, at.header("upload-offset")), (StatusCode::OK, half.to_string().as_str()));
    // It lives while its bytes keep coming: the chunk's acknowledgment moved its expiry on.
    let expiry = |answer: &Answer| httpdate::parse_http_date(answer.header("upload-expires")).expect("a date");
    assert!(
        expiry(&at) > expiry(&created),
        "{} then {}",
        created.header("upload-expires"),
        at.header("upload-expires")
    );
    assert_eq!(expiry(&at), expiry(&first), "the row holds what the chunk's answer said");
    let last = guest.chunk(&path, half, &photo[half..]).await;
    assert_eq!(last.status, StatusCode::NO_CONTENT, "{}", last.text());
    let pending: i64 = last.header("pujo-pending-id").parse().expect("the photo waiting for review");
    assert_eq!(last.header("pujo-photo-id"), "", "it waits for review");
    let again = guest.tus("HEAD", &path, &[], b"").await;
    assert_eq!(again.header("pujo-pending-id"), pending.to_string());

    // Waiting, with the guest's name, in the owner's queue only.
    assert!(ids(&nobody.get(&format!("/api/v1/albums/{id}/photos")).await.json()["items"]).is_empty());
    let queue = owner.get(&format!("/api/v1/albums/{id}/review")).await.json();
    assert_eq!(ids(&queue["items"]), [pending]);
    assert_eq!(queue["items"][0]["guest_name"], "Tumpa");
    assert_eq!(queue["items"][0]["caption"], "Aarati");
    assert_eq!(queue["items"][0]["link_label"], "dalan");

    // A photo sent the other way meanwhile takes the cap's last slot: the second upload
    // reaches its last byte with the cap full, is refused, and forgotten with its bytes.
    assert_eq!(guest.upload(&token, &[41], "Tumpa").await.status, StatusCode::CREATED);
    let full = guest.chunk(&second, 0, &another).await;
    assert_eq!(full.status, StatusCode::FORBIDDEN, "{}", full.text());
    assert_eq!(guest.tus("HEAD", &second, &[], b"").await.status, StatusCode::NOT_FOUND);
    // And a new one is refused before any byte.
    assert_eq!(guest.begin(&token, photo.len(), "Tumpa").await.status, StatusCode::FORBIDDEN);
    let links = owner.get(&format!("/api/v1/albums/{id}/upload-links")).await.json();
    assert_eq!(links["items"][0]["taken"], 2);

    // Approved: the photo has no location, as a multipart guest's.
    let done = owner.post(&format!("/api/v1/albums/{id}/review"), json!({"approve": [pending]})).await.json();
    let photo_id = done["approved"][0]["photo_id"].as_i64().expect("a photo");
    let shown = nobody.get(&format!("/api/v1/photos/{photo_id}")).await.json();
    assert_eq!(shown["guest_name"], "Tumpa");
    assert!(shown["location"].is_null(), "{shown}");

    // Revoking a link ends the unfinished uploads begun through it.
    let other_link = link(&owner, id, json!({})).await;
    let mut late = Guest::new(&app);
    let begun = late.begin(&self::token(&other_link), photo.len(), "").await;
    assert_eq!(begun.status, StatusCode::CREATED, "{}", begun.text());
    let begun = begun.header("location").to_owned();
    assert_eq!(late.chunk(&begun, 0, &photo[..half]).await.status, StatusCode::NO_CONTENT);
    let revoke = format!("/api/v1/albums/{id}/upload-links/{}", other_link["id"]);
    assert_eq!(owner.delete(&revoke).await.status, StatusCode::NO_CONTENT);
    assert_eq!(late.tus("HEAD", &begun, &[], b"").await.status, StatusCode::NOT_FOUND);
    assert_eq!(late.chunk(&begun, half, &photo[half..]).await.status, StatusCode::NOT_FOUND);

    // A person's own upload names its album and no guest.
    use base64::Engine;
    let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
    let metadata = format!("album_id {},guest_name {}", b64(&id.to_string()), b64("Tumpa"));
    let cookie = owner.cookie.clone().expect("session");
    let headers = [
        ("origin", origin.as_str()),
        ("cookie", cookie.as_str()),
        ("tus-resumable", "1.0.0"),
        ("upload-length", "100"),
        ("upload-metadata", metadata.as_str()),
    ];
    let mixed = common::send("POST", &app.url("/api/v1/uploads"), &headers, Bytes::new()).await;
    assert_eq!(mixed.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", mixed.text());
}

/// A phone that drops its connection after its photo arrived whole, while the photo is
/// being made, still gets it made: a slot of the link's caps is never left taken
/// without its photo (before, the work stopped with the connection and the slot
/// stayed taken).
async fn a_guest_cut_off_while_their_photo_is_made_leaves_no_slot_without_its_photo(backend: Backend) {
    use tokio::io::AsyncWriteExt;
    let (app, _db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "kolkata-club").await;
    let id = album(&owner, "Ashtami anjali", "public").await;
    let token = token(&link(&owner, id, json!({"total": 5})).await);
    // Large enough that making its derivatives takes a while.
    let photo = Jpeg { seed: 77, width: 2400, height: 1800, ..Jpeg::default() }.encode();
    let (content_type, body) = common::api::multipart(&[("big.jpg", &photo)], None);
    let proof = common::guest_proof(&app).await;
    let head = format!(
        "POST /api/v1/guest/{token}/photos HTTP/1.1\r\nHost: {0}\r\nOrigin: http://{0}\r\nContent-Type: {content_type}\r\n\
         X-Pujo-Proof: {proof}\r\nContent-Length: {1}\r\n\r\n",
        app.addr,
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(&body).await.expect("body");
    stream.flush().await.expect("flush");
    // The whole file is there once its slot is taken; the phone goes away then, while
    // Pujo works on it.
    let started = std::time::Instant::now();
    while owner.get(&format!("/api/v1/albums/{id}/upload-links")).await.json()["items"][0]["taken"] != 1 {
        assert!(started.elapsed().as_secs() < 30, "the file never arrived");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    drop(stream);

    let started = std::time::Instant::now();
    loop {
        let links = owner.get(&format!("/api/v1/albums/{id}/upload-links")).await.json();
        let queue = owner.get(&format!("/api/v1/albums/{id}/review")).await.json();
        let (taken, waiting) = (links["items"][0]["taken"].as_i64(), ids(&queue["items"]).len());
        if taken == Some(1) && waiting == 1 {
            break;
        }
        assert!(started.elapsed().as_secs() < 90, "taken {taken:?} with {waiting} photos waiting");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The same bytes sent again through the link (a phone that never heard back) are
    // the photo already waiting, and take no second slot of the caps.
    let proof = common::guest_proof(&app).await;
    let origin = format!("http://{}", app.addr);
    let headers = [("origin", origin.as_str()), ("content-type", content_type.as_str()), ("x-pujo-proof", &proof)];
    let again = common::send("POST", &app.url(&format!("/api/v1/guest/{token}/photos")), &headers, body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    let links = owner.get(&format!("/api/v1/albums/{id}/upload-links")).await.json();
    assert_eq!(links["items"][0]["taken"], 1);
    assert_eq!(ids(&owner.get(&format!("/api/v1/albums/{id}/review")).await.json()["items"]).len(), 1);
}

/// Uploads begun through one link and left unfinished (a script with many guest
/// cookies) hold at most a quarter of the temp disk budget: past it a new one is 503,
/// and members and other links still begin theirs.
#[tokio::test]
async fn one_links_unfinished_uploads_hold_at_most_a_quarter_of_the_disk_budget() {
    // A quarter of 800,000 bytes: 200,000 per link (and 100,000 per sender).
    let app = common::spawn_app_with(&[("upload-temp-bytes", "800000")]).await;
    let owner = Api::register(&app, "barowari-samiti").await;
    let id = album(&owner, "Mahalaya", "public").await;
    let busy = token(&link(&owner, id, json!({})).await);
    for _ in 0..2 {
        let mut script = Guest::new(&app);
        let begun = script.begin(&busy, 90_000, "").await;
        assert_eq!(begun.status, StatusCode::CREATED, "{}", begun.text());
        // It lives while its bytes keep coming, not the day a member's upload does.
        let expires = httpdate::parse_http_date(begun.header("upload-expires")).expect("a date");
        let left = expires.duration_since(std::time::SystemTime::now()).unwrap_or_default();
        assert!(left <= std::time::Duration::from_secs(15 * 60), "{left:?}");
    }
    let mut one_more = Guest::new(&app);
    let refused = one_more.begin(&busy, 90_000, "").await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.text());
    assert!(!refused.header("retry-after").is_empty());
    // Another link of the album, and the owner, begin theirs.
    let quiet = token(&link(&owner, id, json!({})).await);
    assert_eq!(Guest::new(&app).begin(&quiet, 90_000, "").await.status, StatusCode::CREATED);
    let origin = format!("http://{}", app.addr);
    let cookie = owner.cookie.clone().expect("session");
    let metadata = {
        use base64::Engine;
        format!("album_id {}", base64::engine::general_purpose::STANDARD.encode(id.to_string()))
    };
    let headers = [
        ("origin", origin.as_str()),
        ("cookie", cookie.as_str()),
        ("tus-resumable", "1.0.0"),
        ("upload-length", "90000"),
        ("upload-metadata", metadata.as_str()),
    ];
    let own = common::send("POST", &app.url("/api/v1/uploads"), &headers, Bytes::new()).await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text());
}

/// Guests' photos keep no location unless the album's owner chose, for one link, to
/// keep where they were taken; then the photo carries it as the owner's own photos do.
async fn an_owner_may_keep_where_guests_photos_were_taken(backend: Backend) {
    let (app, _db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "para-committee").await;
    let id = album(&owner, "Pandal map", "public").await;
    let kept = link(&owner, id, json!({"needs_review": false, "keep_location": true})).await;
    assert_eq!(kept["keep_location"], true);
    let plain = link(&owner, id, json!({"needs_review": false})).await;
    assert_eq!(plain["keep_location"], false, "off by default");

    let mut guest = Guest::new(&app);
    let sent = guest.upload(&token(&kept), &[50], "Mitul").await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
    let with = sent.json()["items"][0]["id"].as_i64().expect("a photo");
    let sent = guest.upload(&token(&plain), &[51], "Mitul").await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
    let without = sent.json()["items"][0]["id"].as_i64().expect("a photo");

    let shown = owner.get(&format!("/api/v1/photos/{with}")).await.json();
    let lat = shown["location"]["lat"].as_f64().expect("a location kept");
    assert!((lat - KOLKATA.0).abs() < 0.01, "{shown}");
    assert!(owner.get(&format!("/api/v1/photos/{without}")).await.json()["location"].is_null());
}
