//! The audit log: security and moderation events recorded as they happen, with who,
//! from which network and in which request; read by admins only; exported by the
//! command line; append-only; dropped past the retention.

use crate::common;

use common::api::Api;
use common::binary;
use common::db::Backend;
use http::StatusCode;
use serde_json::{Value, json};

const PASSWORD: &str = "shiuli-phool-2026";

fn actions(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|e| e["action"].as_str().expect("action").to_owned()).collect()
}

#[tokio::test]
async fn security_events_are_recorded_with_who_where_and_which_request() {
    let app = common::spawn_app().await;
    let durga = Api::register(&app, "durga").await;
    let asur = Api::register(&app, "mahishasur").await;
    let album = durga.post("/api/v1/albums", json!({"title": "Ashtami"})).await.json()["id"].as_i64().expect("id");

    let wrong = Api::login(&app, "durga", "not-the-password-at-all").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(Api::login(&app, "nobody-by-that-name", "whatever-it-is").await.status, StatusCode::UNAUTHORIZED);
    let login = Api::login(&app, "durga", PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK);
    let login_request = login.header("x-request-id").to_owned();
    assert!(!login_request.is_empty());
    let durga = Api::with_session(&app, &login);
    assert_eq!(durga.post(&format!("/api/v1/albums/{album}/link"), json!({})).await.status.as_u16() / 100, 2);
    let changed = durga
        .call(
            "PUT",
            "/api/v1/me/password",
            Some(&json!({"current_password": PASSWORD, "new_password": "kash-phool-2026"}).to_string()),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.text());

    // Only admins read it: made one from the command line, which is recorded too.
    assert_eq!(Api::anonymous(&app).get("/api/v1/admin/audit").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(asur.get("/api/v1/admin/audit").await.status, StatusCode::FORBIDDEN);
    let data = app.data.path().display().to_string();
    let granted = binary(&["admin", "--data-dir", &data, "grant-admin", "durga"], &[]).output().expect("run");
    assert!(granted.status.success(), "{}", String::from_utf8_lossy(&granted.stderr));
    let admin = Api::with_session(&app, &Api::login(&app, "durga", "kash-phool-2026").await);
    let page = admin.get("/api/v1/admin/audit?limit=100").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert_eq!(page.header("cache-control"), "private, no-store");
    let page = page.json();
    assert_eq!(
        actions(&page),
        [
            "auth.login",
            "role.admin_granted",
            "account.password_changed",
            "album.link_rotated",
            "auth.login",
            "auth.login_failed"
        ],
        "newest first; a log-in that names nobody is not recorded (it may be a password in the wrong field): {page}"
    );
    let events = page["items"].as_array().expect("items");
    let durga_id = durga.id();
    let failed_durga = &events[5];
    assert_eq!(failed_durga["actor"], json!({"kind": "anonymous", "id": null, "name": "durga"}));
    assert_eq!(failed_durga["object"], json!({"kind": "user", "id": durga_id.to_string()}));
    let logged_in = &events[4];
    assert_eq!(logged_in["actor"], json!({"kind": "user", "id": durga_id, "name": "durga"}));
    assert_eq!(logged_in["request_id"], login_request, "the request that logged in");
    assert_eq!(logged_in["client"], "127.0.0.0/24", "a network, not a device");
    assert_eq!(events[3]["object"], json!({"kind": "album", "id": album.to_string()}));
    assert_eq!(events[1]["actor"], json!({"kind": "cli", "id": null, "name": ""}));
    let text = page.to_string();
    for secret in [PASSWORD, "kash-phool-2026", "not-the-password-at-all", "whatever-it-is", "nobody-by-that-name"] {
        assert!(!text.contains(secret), "no password is ever recorded");
    }

    // Filters and pages.
    let failed = admin.get("/api/v1/admin/audit?action=auth.login_failed").await.json();
    assert_eq!(actions(&failed), ["auth.login_failed"]);
    let both = admin.get(&format!("/api/v1/admin/audit?action=auth.login&actor={}", durga.id())).await.json();
    assert_eq!(actions(&both), ["auth.login", "auth.login"]);
    let mine = admin.get(&format!("/api/v1/admin/audit?actor={durga_id}")).await.json();
    assert_eq!(actions(&mine).len(), 4, "{mine}");
    let first = admin.get("/api/v1/admin/audit?limit=3").await.json();
    let cursor = first["next_cursor"].as_str().expect("more");
    let second = admin.get(&format!("/api/v1/admin/audit?limit=3&cursor={cursor}")).await.json();
    assert_eq!(second["items"][0]["id"].as_i64(), Some(first["items"][2]["id"].as_i64().expect("id") - 1));

    // The command line's export: every event, oldest first, as JSON lines.
    let export = binary(&["audit", "--data-dir", &data, "export"], &[]).output().expect("run");
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let lines: Vec<Value> = String::from_utf8_lossy(&export.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 6, "the six above");
    assert_eq!(lines[0]["action"], "auth.login_failed");
    assert!(lines.windows(2).all(|w| w[0]["id"].as_i64() < w[1]["id"].as_i64()));
    let after = lines[4]["id"].as_i64().expect("id").to_string();
    let rest = binary(&["audit", "--data-dir", &data, "export", "--after", &after], &[]).output().expect("run");
    assert_eq!(String::from_utf8_lossy(&rest.stdout).lines().count(), 1);

    // A moderator's removal of someone else's comment is recorded; one's own is not.
    let photo = {
        let bytes = common::images::Jpeg::default().encode();
        let up = admin.upload(album, &[("p.jpg", &bytes)], None).await;
        up.json()["items"][0]["id"].as_i64().expect("photo")
    };
    let theirs = asur.post(&format!("/api/v1/photos/{photo}/comments"), json!({"body": "Joy Maa"})).await.json()["id"]
        .as_i64()
        .expect("comment");
    let own = admin.post(&format!("/api/v1/photos/{photo}/comments"), json!({"body": "mine"})).await.json()["id"]
        .as_i64()
        .expect("comment");
    assert_eq!(admin.delete(&format!("/api/v1/comments/{theirs}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(admin.delete(&format!("/api/v1/comments/{own}")).await.status, StatusCode::NO_CONTENT);
    let removed = admin.get("/api/v1/admin/audit?action=moderation.comment_removed").await.json();
    assert_eq!(removed["items"].as_array().map(Vec::len), Some(1), "one's own comment is not a removal: {removed}");
    assert_eq!(removed["items"][0]["object"], json!({"kind": "comment", "id": theirs.to_string()}));

    // An admin removing someone else's photo; a wrong password behind a session; leaving;
    // a revoked role.
    let theirs_album =
        asur.post("/api/v1/albums", json!({"title": "Asura's"})).await.json()["id"].as_i64().expect("id");
    let bytes = common::images::Jpeg { seed: 5, ..common::images::Jpeg::default() }.encode();
    let their_photo =
        asur.upload(theirs_album, &[("a.jpg", &bytes)], None).await.json()["items"][0]["id"].as_i64().expect("id");
    assert_eq!(admin.delete(&format!("/api/v1/photos/{their_photo}")).await.status, StatusCode::NO_CONTENT);
    let wrong = asur.call("DELETE", "/api/v1/me", Some(&json!({"password": "not-it-at-all-x"}).to_string())).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.text());
    let gone = asur.call("DELETE", "/api/v1/me", Some(&json!({"password": PASSWORD}).to_string())).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text());
    let revoked = binary(&["admin", "--data-dir", &data, "revoke-admin", "durga"], &[]).output().expect("run");
    assert!(revoked.status.success());
    let export = binary(&["audit", "--data-dir", &data, "export", "--after", &after], &[]).output().expect("run");
    let recent: Vec<String> = String::from_utf8_lossy(&export.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json")["action"].as_str().expect("action").to_owned())
        .collect();
    assert_eq!(
        recent,
        [
            "auth.login",
            "moderation.comment_removed",
            "moderation.photo_removed",
            "account.password_confirmation_failed",
            "account.deleted",
            "role.admin_revoked",
        ]
    );
    common::stop(app).await;
}

#[tokio::test]
async fn the_audit_log_is_append_only_and_kept_for_its_retention() {
    // SQLite: an UPDATE is refused by the schema itself.
    let (app, db) = common::db::spawn_app_with_db(Backend::Sqlite).await;
    Api::register(&app, "ghot").await;
    assert_eq!(Api::login(&app, "ghot", "wrong-password-1").await.status, StatusCode::UNAUTHORIZED);
    let file = rusqlite::Connection::open(app.data.path().join("pujo.db")).expect("open");
    let changed = file.execute("UPDATE audit_events SET actor_name = 'someone else'", []);
    assert!(changed.is_err_and(|e| e.to_string().contains("append-only")));
    drop(file);
    // Past the retention, events go; newer ones stay.
    assert_eq!(
        db.purge_audit(time::OffsetDateTime::now_utc() - std::time::Duration::from_secs(60), 100).await.unwrap(),
        0
    );
    assert_eq!(
        db.purge_audit(time::OffsetDateTime::now_utc() + std::time::Duration::from_secs(1), 100).await.unwrap(),
        1
    );
    // Past its size, the oldest go first.
    for _ in 0..3 {
        assert_eq!(Api::login(&app, "ghot", "wrong-password-1").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(db.trim_audit(1, 100).await.unwrap(), 2);
    assert_eq!(db.audit_after(0, 10).await.unwrap().len(), 1);
    common::stop(app).await;

    // PostgreSQL: the same, by trigger.
    let url = common::db::create_postgres_database().await;
    let migrated = binary(&["migrate", "--database-url", &url], &[]).output().expect("run");
    assert!(migrated.status.success());
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    client
        .batch_execute("INSERT INTO audit_events (at, actor_kind, action) VALUES (now(), 'cli', 'pandal.created')")
        .await
        .expect("insert");
    let changed = client.batch_execute("UPDATE audit_events SET action = 'nothing.happened'").await;
    assert!(changed.is_err_and(|e| format!("{e:?}").contains("append-only")));
}
