//! `pujo blobs migrate` between the data folder and a real S3-compatible server, and
//! `pujo blobs gc`, run as an operator would: the real binary, next to a running Pujo.

use crate::common;

use std::path::Path;

use common::api::Api;
use common::binary;
use common::images::Jpeg;
use http::StatusCode;
use serde_json::json;
use sha2::Digest;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run scripts/test.sh"))
}

/// Every file under `root` as (relative key, sha256 hex).
fn files(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            let key = path.strip_prefix(root).expect("under root").to_string_lossy().into_owned();
            if key.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if key.starts_with("uploads/") || key.starts_with("thumbnails/") {
                let hash = sha2::Sha256::digest(std::fs::read(&path).expect("read"));
                out.push((key, hash.iter().map(|b| format!("{b:02x}")).collect()));
            }
        }
    }
    out.sort();
    out
}

fn run(args: &[&str]) -> String {
    let out = binary(args, &[]).output().expect("run pujo");
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn blobs_move_to_s3_and_back_and_unreferenced_ones_are_collected() {
    let app = common::spawn_app().await;
    let data = app.data.path().display().to_string();
    let owner = Api::register(&app, "sthanantor").await;
    let album = owner.post("/api/v1/albums", json!({"title": "Moving"})).await.json()["id"].as_i64().expect("id");
    let mut ids = Vec::new();
    for seed in [1, 2] {
        let bytes = Jpeg { seed, ..Jpeg::default() }.encode();
        let up = owner.upload(album, &[("p.jpg", &bytes)], None).await;
        assert_eq!(up.status, StatusCode::CREATED, "{}", up.text());
        ids.push(up.json()["items"][0]["id"].as_i64().expect("id"));
    }
    let local = files(&app.data.path().join("blobs"));
    assert_eq!(local.len(), 16, "per photo: original, shared original, 3 sizes x 2 formats: {local:?}");
    for (key, hash) in &local {
        if let Some(name) = key.strip_prefix("uploads/") {
            assert_eq!(name, hash, "originals are named by their SHA-256");
        }
    }

    let bucket = format!("pujo-blobs-{}", std::process::id());
    let bucket_dir = Path::new(&env("TEST_S3_ROOT")).join(&bucket);
    std::fs::create_dir_all(&bucket_dir).expect("bucket");
    let (endpoint, key_id, secret) = (env("TEST_S3_ENDPOINT"), env("TEST_S3_ACCESS_KEY"), env("TEST_S3_SECRET_KEY"));
    let s3 = |data: &str, rest: &[&str]| {
        let mut args = vec![
            "blobs",
            "--data-dir",
            data,
            "--s3-bucket",
            &bucket,
            "--s3-endpoint",
            &endpoint,
            "--s3-path-style",
            "true",
            "--s3-access-key-id",
            &key_id,
            "--s3-secret-access-key",
            &secret,
        ];
        args.extend_from_slice(rest);
        run(&args)
    };

    let first = s3(&data, &["migrate", "--from", "fs", "--to", "s3"]);
    assert!(first.contains("16 copied"), "{first}");
    assert_eq!(files(&bucket_dir), local, "the bucket holds the same bytes under the same keys");
    // Interrupted or not, a second run finds everything there.
    let again = s3(&data, &["migrate", "--from", "fs", "--to", "s3"]);
    assert!(again.contains("0 copied"), "{again}");

    // And back, into an empty data folder.
    let elsewhere = tempfile::tempdir().expect("dir");
    let back = s3(&elsewhere.path().display().to_string(), &["migrate", "--from", "s3", "--to", "fs"]);
    assert!(back.contains("16 copied"), "{back}");
    assert_eq!(files(&elsewhere.path().join("blobs")), local);

    // gc: a deleted photo's blobs go (after the grace period), the other's stay.
    assert_eq!(owner.delete(&format!("/api/v1/photos/{}", ids[0])).await.status, StatusCode::NO_CONTENT);
    let young = run(&["blobs", "--data-dir", &data, "gc"]);
    assert!(young.contains("deleted 0") && young.contains("kept 8"), "{young}");
    let dry = run(&["blobs", "--data-dir", &data, "gc", "--grace", "0s", "--dry-run"]);
    assert_eq!(dry.lines().filter(|l| l.starts_with("would delete ")).count(), 8, "{dry}");
    assert_eq!(files(&app.data.path().join("blobs")).len(), 16, "a dry run deletes nothing");
    // An upload of the deleted photo's bytes is under way (it holds the content until
    // its row is in, and may have skipped writing blobs that exist): gc leaves them.
    let config = pujo::config::Config::from_sources(&[("data-dir", data.clone())], std::iter::empty()).expect("config");
    let db = pujo::db::Database::open(&config.db, &config.data_dir).await.expect("the same database");
    let hex = dry.lines().find_map(|l| l.strip_prefix("would delete uploads/")).expect("the deleted photo's original");
    let unreferenced: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).expect("hex")).collect();
    assert!(db.claim_content(&unreferenced).await.expect("claim"));
    let held = run(&["blobs", "--data-dir", &data, "gc", "--grace", "0s"]);
    assert!(held.contains("deleted 0") && held.contains("8 in use since the listing"), "{held}");
    assert_eq!(files(&app.data.path().join("blobs")).len(), 16, "held bytes stay");
    db.release_content(&unreferenced).await.expect("release");
    let collected = run(&["blobs", "--data-dir", &data, "gc", "--grace", "0s"]);
    assert!(collected.contains("deleted 8"), "{collected}");
    assert_eq!(files(&app.data.path().join("blobs")).len(), 8);
    let kept = owner.get(&format!("/media/{}/display", ids[1])).await;
    assert_eq!(kept.status, StatusCode::OK, "the photo still there keeps its blobs");
    // The other way round: while a deletion of some bytes is under way, an upload of
    // them waits for it to end, then writes them anew.
    let bytes = Jpeg { seed: 1, ..Jpeg::default() }.encode();
    assert!(db.begin_content_deletion(&unreferenced).await.expect("begin"));
    let parts: [(&str, &[u8]); 1] = [("again.jpg", &bytes)];
    let upload = owner.upload(album, &parts, None);
    tokio::pin!(upload);
    let early = tokio::time::timeout(std::time::Duration::from_millis(500), &mut upload).await;
    assert!(early.is_err(), "the upload went ahead during the deletion");
    db.end_content_deletion(&unreferenced).await.expect("end");
    let again = upload.await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    let id = again.json()["items"][0]["id"].as_i64().expect("id");
    assert_eq!(&owner.get(&format!("/media/{id}/original")).await.body[..], &bytes[..], "written anew");

    let bad =
        binary(&["blobs", "--data-dir", &data, "migrate", "--from", "fs", "--to", "s3"], &[]).output().expect("run");
    assert_eq!(bad.status.code(), Some(2), "s3 without a bucket is a usage error");
}
