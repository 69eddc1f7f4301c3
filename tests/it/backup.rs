//! `pujo backup`, `pujo backup verify` and `pujo restore`, run as an operator would:
//! the real binary beside a running Pujo that people keep writing to, then a second
//! Pujo started on what was restored, asked the same questions.

use crate::common;

use std::path::Path;
use std::process::Output;

use common::api::Api;
use common::binary;
use common::db::Backend;
use common::images::Jpeg;
use http::StatusCode;
use serde_json::{Value, json};

const PASSWORD: &str = "shiuli-phool-2026";

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    binary(args, env).output().expect("run pujo")
}

fn ok(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = run(args, env);
    assert!(out.status.success(), "{args:?}: {}{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The JSON lines a command printed, by their `event`.
fn event(stdout: &str, name: &str) -> Value {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == name)
        .unwrap_or_else(|| panic!("no {name} event in {stdout}"))
}

/// What two people made: a public and a private album, photos, comments and likes.
async fn people_make_things(app: &common::TestApp) -> Vec<String> {
    let durga = Api::register(app, "durga").await;
    let asur = Api::register(app, "mahishasur").await;
    let open = durga.post("/api/v1/albums", json!({"title": "Ashtami"})).await.json()["id"].as_i64().expect("id");
    let closed = durga.post("/api/v1/albums", json!({"title": "Family", "visibility": "private"})).await.json()["id"]
        .as_i64()
        .expect("id");
    for (album, seed) in [(open, 1), (open, 2), (closed, 3)] {
        let bytes = Jpeg { seed, ..Jpeg::default() }.encode();
        let up = durga.upload(album, &[("p.jpg", &bytes)], Some("pandal at night")).await;
        assert_eq!(up.status, StatusCode::CREATED, "{}", up.text());
    }
    let photos = durga.get(&format!("/api/v1/albums/{open}/photos")).await.json();
    let first = photos["items"][0]["id"].as_i64().expect("photo");
    assert_eq!(
        asur.post(&format!("/api/v1/photos/{first}/comments"), json!({"body": "Joy Maa"})).await.status,
        StatusCode::CREATED
    );
    assert_eq!(asur.put(&format!("/api/v1/photos/{first}/like")).await.status.as_u16() / 100, 2);
    vec!["durga".into(), "mahishasur".into()]
}

/// Everything each person can see, as the API answers it, media bytes included.
async fn answers(app: &common::TestApp, people: &[String]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut viewers = vec![("nobody".to_owned(), Api::anonymous(app))];
    for name in people {
        let login = Api::login(app, name, PASSWORD).await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.text());
        viewers.push((name.clone(), Api::with_session(app, &login)));
    }
    for (who, api) in &viewers {
        let mut paths = vec!["/api/v1/albums".to_owned(), "/api/v1/photos".to_owned()];
        for name in people {
            paths.push(format!("/api/v1/users/{name}"));
        }
        let albums = api.get("/api/v1/albums?limit=100").await.json();
        for album in albums["items"].as_array().into_iter().flatten() {
            let id = album["id"].as_i64().expect("album id");
            paths.push(format!("/api/v1/albums/{id}"));
            paths.push(format!("/api/v1/albums/{id}/photos"));
        }
        let photos = api.get("/api/v1/photos?limit=100").await.json();
        for photo in photos["items"].as_array().into_iter().flatten() {
            let id = photo["id"].as_i64().expect("photo id");
            paths.push(format!("/api/v1/photos/{id}"));
            paths.push(format!("/api/v1/photos/{id}/comments"));
            for url in photo["urls"].as_object().into_iter().flat_map(|u| u.values()) {
                if let Some(url) = url.as_str() {
                    let media = api.get(url).await;
                    assert_eq!(media.status, StatusCode::OK, "{who} {url}");
                    let digest = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&media.body));
                    out.push((format!("{who} {url}"), json!(format!("{digest:x}"))));
                }
            }
        }
        for path in paths {
            let answer = api.get(&path).await;
            out.push((format!("{who} {path}"), json!({"status": answer.status.as_u16(), "body": answer.json()})));
        }
    }
    out
}

fn backup_args<'a>(data: &'a str, db_url: Option<&'a str>, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--data-dir", data];
    if let Some(url) = db_url {
        args.extend(["--database-url", url]);
    }
    args.extend_from_slice(rest);
    args
}

/// Backs up a server people keep writing to, restores it elsewhere and compares.
/// Sets a database's defaults for dates and numbers as text to `style`: a dump must
/// read back the same whatever the server's or database's settings.
async fn text_defaults(url: Option<&str>, style: &str) {
    let Some(url) = url else { return };
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let name = url.rsplit('/').next().expect("database");
    client.batch_execute(&format!("ALTER DATABASE {name} SET datestyle = '{style}'; ALTER DATABASE {name} SET timezone = 'Asia/Kolkata'; ALTER DATABASE {name} SET extra_float_digits = 0")).await.expect("alter");
}

async fn round_trip(backend: Backend) {
    let source = common::db::fresh(backend, &[]).await;
    let url = source.url.clone();
    text_defaults(url.as_deref(), "SQL, DMY").await;
    let app = common::db::serve(source.config.clone(), source.data).await;
    let people = people_make_things(&app).await;
    let data = app.data.path().display().to_string();
    let target = tempfile::tempdir().expect("target");
    let to = target.path().display().to_string();

    // A backup while photos and comments keep arriving.
    let writer = {
        let (addr, login) = (app.addr, Api::login(&app, "durga", PASSWORD).await);
        let cookie = login.header("set-cookie").split(';').next().unwrap_or("").to_owned();
        tokio::spawn(async move {
            let origin = format!("http://{addr}");
            let headers =
                [("origin", origin.as_str()), ("cookie", cookie.as_str()), ("content-type", "application/json")];
            let album = common::send(
                "POST",
                &format!("{origin}/api/v1/albums"),
                &headers,
                json!({"title": "Navami"}).to_string().into(),
            )
            .await;
            let album = album.json()["id"].as_i64().expect("album");
            for seed in 10..40u8 {
                let (content_type, body) = common::api::multipart(
                    &[("n.jpg", &Jpeg { seed, width: 600 + u32::from(seed), ..Jpeg::default() }.encode())],
                    None,
                );
                let headers =
                    [("origin", origin.as_str()), ("cookie", cookie.as_str()), ("content-type", content_type.as_str())];
                let up = common::send("POST", &format!("{origin}/api/v1/albums/{album}/photos"), &headers, body).await;
                assert_eq!(up.status, StatusCode::CREATED, "{}", up.text());
                let photo = up.json()["items"][0]["id"].as_i64().expect("photo");
                let said = json!({"body": format!("Sundor {seed}")}).to_string();
                let url = format!("{origin}/api/v1/photos/{photo}/comments");
                let headers =
                    [("origin", origin.as_str()), ("cookie", cookie.as_str()), ("content-type", "application/json")];
                let comment = common::send("POST", &url, &headers, said.into()).await;
                assert_eq!(comment.status, StatusCode::CREATED, "{}", comment.text());
            }
        })
    };
    let busy = tokio::task::spawn_blocking({
        let (data, to, url) = (data.clone(), to.clone(), url.clone());
        move || ok(&[&["backup"][..], &backup_args(&data, url.as_deref(), &["--to", &to])].concat(), &[])
    })
    .await
    .expect("backup");
    assert!(event(&busy, "done")["summary"]["photos"].as_u64().expect("photos") >= 3, "{busy}");
    writer.await.expect("writer");

    // Then a second one with nothing moving: it copies only what the first lacked.
    let quiet = ok(&[&["backup"][..], &backup_args(&data, url.as_deref(), &["--to", &to])].concat(), &[]);
    let (first, second) = (event(&busy, "done"), event(&quiet, "done"));
    assert!(
        second["copied"].as_u64().expect("copied") < second["blobs"].as_u64().expect("blobs"),
        "an incremental backup copies only new blobs: {second}"
    );
    assert_eq!(second["summary"]["photos"], json!(33), "{first} {second}");
    let verified = ok(&[&["backup"][..], &backup_args(&data, url.as_deref(), &["verify", &to])].concat(), &[]);
    assert_eq!(event(&verified, "verified")["backup"], second["backup"]);

    // The backup taken while people wrote restores whole too: its counts are its
    // snapshot's, and every photo in it has its media.
    let busy_name = first["backup"].as_str().expect("name").to_owned();
    let mid = common::db::fresh(backend, &[]).await;
    let (mid_data, mid_url) = (mid.data.path().display().to_string(), mid.url.clone());
    let out = ok(
        &[&["restore"][..], &backup_args(&mid_data, mid_url.as_deref(), &["--from", &to, "--backup", &busy_name])]
            .concat(),
        &[],
    );
    assert_eq!(event(&out, "restored")["summary"], first["summary"], "{out}");
    let mid_app = common::db::serve(mid.config.clone(), mid.data).await;
    let seen = answers(&mid_app, &people).await;
    assert!(!seen.is_empty());
    common::stop(mid_app).await;

    // Restored into an empty install, the API answers exactly as the source does.
    let expected = answers(&app, &people).await;
    let restored = common::db::fresh(backend, &[]).await;
    text_defaults(restored.url.as_deref(), "SQL, MDY").await;
    let (data2, url2) = (restored.data.path().display().to_string(), restored.url.clone());
    // `fresh` migrated nothing yet; a PostgreSQL database it made is empty.
    let out = ok(&[&["restore"][..], &backup_args(&data2, url2.as_deref(), &["--from", &to])].concat(), &[]);
    assert_eq!(event(&out, "restored")["summary"], second["summary"], "{out}");
    let again = run(&[&["restore"][..], &backup_args(&data2, url2.as_deref(), &["--from", &to])].concat(), &[]);
    assert_eq!(again.status.code(), Some(1), "a restore never overwrites: {}", text(&again.stderr));
    assert!(text(&again.stderr).contains("already"), "{}", text(&again.stderr));

    let second_app = common::db::serve(restored.config.clone(), restored.data).await;
    let got = answers(&second_app, &people).await;
    assert_eq!(got.len(), expected.len());
    for ((what, want), (_, have)) in expected.iter().zip(&got) {
        assert_eq!(have, want, "{what}");
    }
    // New rows get new ids: the sequences came back where they stood.
    let durga = Api::with_session(&second_app, &Api::login(&second_app, "durga", PASSWORD).await);
    let made = durga.post("/api/v1/albums", json!({"title": "Dashami"})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    common::stop(second_app).await;
    common::stop(app).await;

    if backend == Backend::Postgres {
        // A database already migrated past a backup's schema is refused: the migrations
        // in between would never run on the rows loaded into it.
        let name = second["backup"].as_str().expect("name");
        let folder = target.path().join(format!("backups/{name}"));
        let mut manifest: Value =
            serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).expect("manifest")).expect("json");
        manifest["schema_version"] = json!(7);
        manifest["postgres"]["schema_version"] = json!(7);
        let body = serde_json::to_vec_pretty(&manifest).expect("json");
        let hash = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&body));
        std::fs::write(folder.join("manifest.json"), &body).expect("write");
        std::fs::write(folder.join("manifest.sha256"), format!("{hash:x}\n")).expect("write");
        let ahead = common::db::create_postgres_database().await;
        ok(&["migrate", "--database-url", &ahead], &[]);
        let elsewhere = tempfile::tempdir().expect("dir");
        let out = run(
            &[
                "restore",
                "--data-dir",
                &elsewhere.path().display().to_string(),
                "--database-url",
                &ahead,
                "--from",
                &to,
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
        assert!(text(&out.stderr).contains("past the backup's 7"), "{}", text(&out.stderr));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_backup_taken_while_people_write_restores_to_the_same_answers() {
    round_trip(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_backup_taken_while_people_write_restores_to_the_same_answers() {
    round_trip(Backend::Postgres).await;
}

/// A small install and one complete backup of it, for the damage tests.
async fn one_backup() -> (common::TestApp, tempfile::TempDir, String) {
    let app = common::spawn_app().await;
    people_make_things(&app).await;
    let target = tempfile::tempdir().expect("target");
    let data = app.data.path().display().to_string();
    let out = ok(&["backup", "--data-dir", &data, "--to", &target.path().display().to_string()], &[]);
    let name = event(&out, "done")["backup"].as_str().expect("name").to_owned();
    (app, target, name)
}

fn restore_into_empty(target: &Path) -> (Output, tempfile::TempDir) {
    let empty = tempfile::tempdir().expect("empty");
    let out = run(
        &["restore", "--data-dir", &empty.path().display().to_string(), "--from", &target.display().to_string()],
        &[],
    );
    (out, empty)
}

#[tokio::test]
async fn a_damaged_blob_or_manifest_is_refused_and_nothing_is_restored() {
    let (app, target, name) = one_backup().await;
    let to = target.path().display().to_string();
    let manifest = target.path().join(format!("backups/{name}/manifest.json"));
    let original = std::fs::read(&manifest).expect("manifest");

    // One byte of one photo changed.
    let blob = std::fs::read_dir(target.path().join("blobs/uploads"))
        .expect("uploads")
        .next()
        .expect("a blob")
        .expect("entry")
        .path();
    let good = std::fs::read(&blob).expect("blob");
    let mut bad = good.clone();
    bad[good.len() / 2] ^= 0x01;
    std::fs::write(&blob, &bad).expect("damage");
    let verify = run(&["backup", "verify", &to], &[]);
    assert_eq!(verify.status.code(), Some(1), "{}", text(&verify.stdout));
    assert!(text(&verify.stderr).contains("damaged"), "{}", text(&verify.stderr));
    let (out, empty) = restore_into_empty(target.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(!empty.path().join("pujo.db").exists(), "no database when a blob is damaged");
    std::fs::write(&blob, &good).expect("repair");

    // The manifest edited (a count changed, so every hash still matches the files).
    let edited = String::from_utf8(original.clone()).expect("utf-8").replacen("\"users\": 2", "\"users\": 3", 1);
    assert_ne!(edited.as_bytes(), &original[..]);
    std::fs::write(&manifest, edited).expect("edit");
    let verify = run(&["backup", "verify", &to], &[]);
    assert_eq!(verify.status.code(), Some(1));
    assert!(text(&verify.stderr).contains("does not match its hash"), "{}", text(&verify.stderr));
    let (out, empty) = restore_into_empty(target.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(!empty.path().join("pujo.db").exists());
    assert!(
        std::fs::read_dir(empty.path().join("blobs/uploads")).map_or(true, |mut d| d.next().is_none()),
        "no blob either"
    );

    // Repaired, it restores.
    std::fs::write(&manifest, &original).expect("repair");
    let (out, _empty) = restore_into_empty(target.path());
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));

    // A restore that stopped left a blob that never reached the disk whole: run again,
    // it checks what is there instead of trusting it, and writes that blob again.
    let torn = tempfile::tempdir().expect("dir");
    let key = blob.strip_prefix(target.path().join("blobs")).expect("under blobs").to_owned();
    std::fs::create_dir_all(torn.path().join("blobs").join(key.parent().expect("folder"))).expect("folder");
    std::fs::write(torn.path().join("blobs").join(&key), &good[..good.len() / 3]).expect("torn");
    let out = run(&["restore", "--data-dir", &torn.path().display().to_string(), "--from", &to], &[]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(std::fs::read(torn.path().join("blobs").join(&key)).expect("restored"), good, "whole again");
    common::stop(app).await;
}

#[tokio::test]
async fn a_backup_killed_midway_is_never_taken_for_a_complete_one() {
    let app = common::spawn_app().await;
    people_make_things(&app).await;
    // Enough photos that the backup is still copying when it is killed.
    let durga = Api::with_session(&app, &Api::login(&app, "durga", PASSWORD).await);
    let album = durga.post("/api/v1/albums", json!({"title": "Many"})).await.json()["id"].as_i64().expect("id");
    for seed in 50..65u8 {
        let up = durga
            .upload(album, &[("m.jpg", &Jpeg { seed, width: 600 + u32::from(seed), ..Jpeg::default() }.encode())], None)
            .await;
        assert_eq!(up.status, StatusCode::CREATED);
    }
    let target = tempfile::tempdir().expect("target");
    let (data, to) = (app.data.path().display().to_string(), target.path().display().to_string());
    let mut child = binary(&["backup", "--data-dir", &data, "--to", &to], &[])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    // Killed as soon as it has copied anything.
    let copying = common::eventually(std::time::Duration::from_secs(20), || {
        let blobs = target.path().join("blobs");
        async move { std::fs::read_dir(blobs.join("uploads")).is_ok_and(|mut d| d.next().is_some()) }
    })
    .await;
    assert!(copying, "the backup began copying");
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    let complete = std::fs::read_dir(target.path().join("backups"))
        .into_iter()
        .flatten()
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().join("manifest.sha256").exists()))
        .count();
    assert_eq!(complete, 0, "the killed backup wrote its manifest hash");
    let verify = run(&["backup", "verify", &to], &[]);
    assert_eq!(verify.status.code(), Some(1));
    assert!(text(&verify.stderr).contains("no complete backup"), "{}", text(&verify.stderr));
    let (out, empty) = restore_into_empty(target.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(!empty.path().join("pujo.db").exists());

    // Run again, it completes. What the killed one left is written again: no complete
    // backup vouches for those bytes (they may not have reached the disk).
    let out = ok(&["backup", "--data-dir", &data, "--to", &to], &[]);
    let done = event(&out, "done");
    assert_eq!(done["summary"]["photos"], json!(18));
    assert_eq!(done["copied"], done["blobs"], "{done}");
    // A backup after it trusts the complete one: it copies nothing.
    let out = ok(&["backup", "--data-dir", &data, "--to", &to], &[]);
    assert_eq!(event(&out, "done")["copied"], json!(0), "{out}");
    ok(&["backup", "verify", &to], &[]);
    common::stop(app).await;
}

#[tokio::test]
async fn backups_go_to_an_s3_bucket_and_old_ones_are_pruned() {
    let app = common::spawn_app().await;
    people_make_things(&app).await;
    let env = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run scripts/test.sh"));
    let bucket = format!("pujo-backups-{}", std::process::id());
    std::fs::create_dir_all(Path::new(&env("TEST_S3_ROOT")).join(&bucket)).expect("bucket");
    let (endpoint, key_id, secret) = (env("TEST_S3_ENDPOINT"), env("TEST_S3_ACCESS_KEY"), env("TEST_S3_SECRET_KEY"));
    let aws = [
        ("PUJO_BACKUP_S3_ENDPOINT", endpoint.as_str()),
        ("PUJO_BACKUP_S3_PATH_STYLE", "true"),
        ("AWS_ACCESS_KEY_ID", key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
        ("AWS_REGION", "us-east-1"),
    ];
    let data = app.data.path().display().to_string();
    let to = format!("s3://{bucket}/pujo/nightly");
    let mut names = Vec::new();
    for _ in 0..3 {
        let out = ok(&["backup", "--data-dir", &data, "--to", &to, "--keep", "2"], &aws);
        names.push(event(&out, "done")["backup"].as_str().expect("name").to_owned());
    }
    let kept: Vec<String> =
        std::fs::read_dir(Path::new(&env("TEST_S3_ROOT")).join(&bucket).join("pujo/nightly/backups"))
            .expect("backups")
            .map(|e| e.expect("entry").path())
            .filter(|dir| dir.join("manifest.sha256").exists())
            .map(|dir| dir.file_name().expect("name").to_string_lossy().into_owned())
            .collect();
    assert_eq!(kept.len(), 2, "--keep 2: {kept:?}");
    assert!(!kept.contains(&names[0]), "the oldest went: {kept:?}");
    let all = ok(&["backup", "verify", "--all", &to], &aws);
    assert_eq!(all.lines().filter(|l| l.contains("\"verified\"")).count(), 2, "both kept backups checked: {all}");
    let empty = tempfile::tempdir().expect("empty");
    let out =
        ok(&["restore", "--data-dir", &empty.path().display().to_string(), "--from", &to, "--backup", &names[1]], &aws);
    assert_eq!(event(&out, "restored")["backup"], json!(names[1]), "an older backup, by name");
    assert_eq!(event(&out, "restored")["summary"]["photos"], json!(3));
    let gone = run(
        &["restore", "--data-dir", &empty.path().join("x").display().to_string(), "--from", &to, "--backup", &names[0]],
        &aws,
    );
    assert_eq!(gone.status.code(), Some(1), "a pruned backup is not offered");
    common::stop(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_install_moved_from_sqlite_to_postgres_answers_the_same() {
    let app = common::spawn_app().await;
    let people = people_make_things(&app).await;
    // Likes, and text CSV must quote, so every count and field has something to carry.
    let durga = Api::with_session(&app, &Api::login(&app, "durga", PASSWORD).await);
    let album = durga.post("/api/v1/albums", json!({"title": "Kolkata \"night\", 2026, প্যান্ডেল"})).await.json()["id"]
        .as_i64()
        .expect("id");
    for seed in 70..75u8 {
        let up = durga
            .upload(
                album,
                &[("k.jpg", &Jpeg { seed, width: 600 + u32::from(seed), ..Jpeg::default() }.encode())],
                Some(""),
            )
            .await;
        let id = up.json()["items"][0]["id"].as_i64().expect("photo");
        assert_eq!(durga.put(&format!("/api/v1/photos/{id}/like")).await.status.as_u16() / 100, 2);
    }
    let expected = answers(&app, &people).await;
    let data = common::stop(app).await;
    let url = common::db::create_postgres_database().await;
    let dir = data.path().display().to_string();

    let out =
        ok(&["db", "--data-dir", &dir, "--database-url", &url, "migrate", "--from", "sqlite", "--to", "postgres"], &[]);
    let moved = event(&out, "moved");
    assert_eq!(moved["summary"]["photos"], json!(8), "{out}");
    let tables: Vec<Value> =
        out.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|v| v["event"] == "table").collect();
    for name in ["users", "sessions", "albums", "photos", "comments", "likes", "pandals"] {
        assert!(tables.iter().any(|t| t["table"] == name), "{name} moved: {out}");
    }
    let again = run(
        &["db", "--data-dir", &dir, "--database-url", &url, "migrate", "--from", "sqlite", "--to", "postgres"],
        &[],
    );
    assert_eq!(again.status.code(), Some(1), "a move never writes over a database in use");

    // Pujo on PostgreSQL with the same photo folder answers as it did on SQLite.
    let mut flags = common::base_settings();
    flags.extend([("data-dir", dir.clone()), ("database-url", url.clone())]);
    let config = pujo::config::Config::from_sources(&flags, std::iter::empty()).expect("config");
    let moved_app = common::db::serve(config, data).await;
    let got = answers(&moved_app, &people).await;
    assert_eq!(got.len(), expected.len());
    for ((what, want), (_, have)) in expected.iter().zip(&got) {
        assert_eq!(have, want, "{what}");
    }
    let made = durga_on(&moved_app).await.post("/api/v1/albums", json!({"title": "Dashami"})).await;
    assert_eq!(made.status, StatusCode::CREATED, "ids go on after the moved ones: {}", made.text());
    assert!(made.json()["id"].as_i64().expect("id") > album);
    common::stop(moved_app).await;
}

async fn durga_on(app: &common::TestApp) -> Api<'_> {
    Api::with_session(app, &Api::login(app, "durga", PASSWORD).await)
}

/// Reads a ZIP with Python's `zipfile` (a reader no one here wrote): every entry's
/// CRC checked, then each entry's name and bytes.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("export.zip");
    std::fs::write(&path, bytes).expect("write");
    let script = "import sys, zipfile, base64, json\n\
                  z = zipfile.ZipFile(sys.argv[1])\n\
                  bad = z.testzip()\n\
                  assert bad is None, bad\n\
                  print(json.dumps([[i.filename, base64.b64encode(z.read(i)).decode()] for i in z.infolist()]))";
    let out = std::process::Command::new("python3").args(["-c", script]).arg(&path).output().expect("python3");
    assert!(out.status.success(), "zipfile: {}", text(&out.stderr));
    let entries: Vec<(String, String)> = serde_json::from_slice(&out.stdout).expect("json");
    use base64::Engine;
    entries.into_iter().map(|(n, b)| (n, base64::engine::general_purpose::STANDARD.decode(b).expect("b64"))).collect()
}

#[tokio::test]
async fn a_person_downloads_everything_they_uploaded_as_one_streamed_zip() {
    let app = common::spawn_app().await;
    let durga = Api::register(&app, "durga").await;
    let asur = Api::register(&app, "mahishasur").await;
    let open = durga.post("/api/v1/albums", json!({"title": "Ashtami"})).await.json()["id"].as_i64().expect("id");
    let closed = durga.post("/api/v1/albums", json!({"title": "Family", "visibility": "private"})).await.json()["id"]
        .as_i64()
        .expect("id");
    let mut uploaded = Vec::new();
    for (album, seed, gps) in [(open, 1u8, Some((22.5726, 88.3639))), (closed, 2, None)] {
        let bytes = Jpeg { seed, gps, width: 600 + u32::from(seed), ..Jpeg::default() }.encode();
        let up = durga.upload(album, &[("p.jpg", &bytes)], Some("সন্ধিপুজো")).await;
        assert_eq!(up.status, StatusCode::CREATED, "{}", up.text());
        uploaded.push((up.json()["items"][0]["id"].as_i64().expect("id"), album, bytes));
    }
    let theirs = asur.post("/api/v1/albums", json!({"title": "Asura's"})).await.json()["id"].as_i64().expect("id");
    let up = asur.upload(theirs, &[("a.jpg", &Jpeg { seed: 9, ..Jpeg::default() }.encode())], None).await;
    let their_photo = up.json()["items"][0]["id"].as_i64().expect("id");
    let first = uploaded[0].0;
    assert_eq!(
        durga.post(&format!("/api/v1/photos/{their_photo}/comments"), json!({"body": "Joy Maa"})).await.status,
        StatusCode::CREATED
    );
    assert_eq!(durga.put(&format!("/api/v1/photos/{their_photo}/like")).await.status.as_u16() / 100, 2);
    assert_eq!(
        asur.post(&format!("/api/v1/photos/{first}/comments"), json!({"body": "not mine to export"})).await.status,
        StatusCode::CREATED
    );

    assert_eq!(Api::anonymous(&app).get("/api/v1/me/export").await.status, StatusCode::UNAUTHORIZED);
    let answer = durga.get("/api/v1/me/export").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.header("content-type"), "application/zip");
    assert!(answer.header("content-disposition").starts_with("attachment; filename=\"pujo-durga-"));
    assert_eq!(answer.header("cache-control"), "private, no-store");
    let entries = unzip(&answer.body);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.last(), Some(&"pujo.json"), "written last, it says what the archive holds: {names:?}");
    assert_eq!(entries.len(), 3, "my two originals and the data file, not theirs: {names:?}");
    let data: Value = serde_json::from_slice(&entries[2].1).expect("pujo.json");
    assert_eq!(data["user"]["username"], "durga");
    assert_eq!(data["albums"].as_array().expect("albums").len(), 2, "private albums too: they are mine");
    assert_eq!(data["comments"].as_array().expect("comments").len(), 1);
    assert_eq!(data["comments"][0]["body"], "Joy Maa");
    assert_eq!(data["likes"][0]["photo_id"], json!(their_photo));
    for (id, album, bytes) in &uploaded {
        let photo = data["photos"].as_array().expect("photos").iter().find(|p| p["id"] == json!(id)).expect("listed");
        assert_eq!(photo["album_id"], json!(album));
        assert_eq!(photo["caption"], "সন্ধিপুজো");
        let file = photo["file"].as_str().expect("file");
        assert_eq!(file, format!("originals/{album}/{id}.jpg"));
        let (_, inside) = entries.iter().find(|(n, _)| n == file).expect("in the archive");
        assert_eq!(inside, bytes, "the original exactly as uploaded");
    }
    let located = data["photos"].as_array().expect("photos").iter().find(|p| p["id"] == json!(first)).expect("first");
    assert!(
        (located["location"]["lat"].as_f64().expect("lat") - 22.5726).abs() < 1e-3,
        "my own location is mine to keep"
    );

    let theirs = unzip(&asur.get("/api/v1/me/export").await.body);
    assert_eq!(theirs.len(), 2, "their one original and their data file");
    let data: Value = serde_json::from_slice(&theirs[1].1).expect("pujo.json");
    assert_eq!(data["comments"][0]["body"], "not mine to export");
    assert!(data["photos"].as_array().expect("photos").iter().all(|p| p["id"] == json!(their_photo)));

    // An original gone from the store (deleted while an archive is made, or lost) is
    // left out, and pujo.json says so; the archive is still whole.
    let sha = located["sha256"].as_str().expect("sha256").to_owned();
    std::fs::remove_file(app.data.path().join("blobs/uploads").join(&sha)).expect("remove the original");
    let answer = durga.get("/api/v1/me/export").await;
    assert_eq!(answer.status, StatusCode::OK);
    let entries = unzip(&answer.body);
    assert_eq!(entries.len(), 2, "the other original and the data file");
    let data: Value = serde_json::from_slice(&entries[1].1).expect("pujo.json");
    let left_out = data["photos"].as_array().expect("photos").iter().find(|p| p["id"] == json!(first)).expect("listed");
    assert_eq!(left_out["file"], Value::Null);
    common::stop(app).await;
}
