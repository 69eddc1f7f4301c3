//! Photos in and out, against the local blob folder and a real S3-compatible server
//! (s3s-fs, which checks SigV4 signatures) that `scripts/test.sh` starts.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::TestApp;
use common::api::Api;
use common::images::{self, Jpeg};
use http::StatusCode;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Store {
    Fs,
    S3,
}

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod fs {
            $( #[tokio::test] async fn $name() { super::$name(super::Store::Fs).await } )*
        }
        mod s3 {
            $( #[tokio::test] async fn $name() { super::$name(super::Store::S3).await } )*
        }
    };
}

on_both_stores!(
    an_upload_makes_every_derivative_without_metadata,
    every_exif_orientation_comes_out_upright,
    progressive_cmyk_alpha_and_16_bit_images_are_taken,
    anything_but_an_image_is_refused_and_leaves_nothing,
    media_answers_ranges_and_revalidation,
    identical_uploads_at_once_give_one_photo,
    private_media_is_404_to_everyone_else,
);

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run scripts/test.sh, which starts an S3-compatible server (s3s-fs) and exports it")
    })
}

/// Settings for a bucket of this test's own on the shared S3 server.
fn s3_settings() -> Vec<(&'static str, String)> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let bucket = format!("pujo-test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    std::fs::create_dir_all(std::path::Path::new(&env("TEST_S3_ROOT")).join(&bucket)).expect("bucket folder");
    vec![
        ("s3-bucket", bucket),
        ("s3-endpoint", env("TEST_S3_ENDPOINT")),
        ("s3-path-style", "true".to_owned()),
        ("s3-access-key-id", env("TEST_S3_ACCESS_KEY")),
        ("s3-secret-access-key", env("TEST_S3_SECRET_KEY")),
        ("s3-timeout", "5s".to_owned()),
    ]
}

async fn spawn(store: Store, extra: &[(&'static str, &str)]) -> TestApp {
    let data = tempfile::tempdir().expect("dir");
    let mut flags: Vec<(&'static str, String)> = extra.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    if store == Store::S3 {
        flags.extend(s3_settings());
    }
    let refs: Vec<(&'static str, &str)> = flags.iter().map(|(k, v)| (*k, v.as_str())).collect();
    common::spawn_app_in(data, &refs).await
}

async fn album(api: &Api<'_>, visibility: &str) -> i64 {
    let a = api.post("/api/v1/albums", json!({"title": "Pandal hopping", "visibility": visibility})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    a.json()["id"].as_i64().expect("id")
}

async fn upload_one(api: &Api<'_>, album: i64, bytes: &[u8]) -> Value {
    let answer = api.upload(album, &[("photo.jpg", bytes)], Some("Sandhya arati")).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    answer.json()["items"][0].clone()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn an_upload_makes_every_derivative_without_metadata(store: Store) {
    let app = spawn(store, &[]).await;
    let (owner, other) = (Api::register(&app, "chitrakar").await, Api::register(&app, "darshak").await);
    let album = album(&owner, "public").await;
    let original = Jpeg { width: 2400, height: 1200, gps: Some((22.5726, 88.3639)), ..Jpeg::default() }.encode();
    let photo = upload_one(&owner, album, &original).await;
    let id = photo["id"].as_i64().expect("id");
    assert_eq!((photo["width"].as_i64(), photo["height"].as_i64()), (Some(2400), Some(1200)));
    assert_eq!(photo["caption"], "Sandhya arati");
    assert_eq!(photo["exif"]["camera"], "Google Pixel 9");
    assert_eq!(photo["exif"]["exposure"], "1/250 s");
    assert_eq!(photo["exif"]["aperture"], "f/1.8");
    assert_eq!(photo["taken_at"], "2026-10-20T14:00:05Z", "19:30:05 at +05:30");
    assert!(photo["thumbhash"].as_str().is_some_and(|t| !t.is_empty()));
    assert!((photo["location"]["lat"].as_f64().expect("owner sees it") - 22.5726).abs() < 1e-4);

    // Others: no location (hidden is the default), and no GPS anywhere in the JSON.
    let seen = other.get(&format!("/api/v1/photos/{id}")).await;
    assert_eq!(seen.json()["location"], Value::Null);
    assert!(!seen.text().contains("22.57"), "{}", seen.text());

    for (variant, edge) in [("thumb", 400), ("medium", 800), ("display", 1600)] {
        let webp = other.get_with(&format!("/media/{id}/{variant}"), &[("accept", "image/webp,*/*")]).await;
        assert_eq!(webp.status, StatusCode::OK, "{}", webp.text());
        assert_eq!(webp.header("content-type"), "image/webp");
        assert!(webp.body.starts_with(b"RIFF") && contains(&webp.body, b"WEBP"));
        assert!(webp.header("vary").contains("Accept"));
        let jpeg = other.get_with(&format!("/media/{id}/{variant}"), &[("accept", "*/*")]).await;
        assert_eq!(jpeg.header("content-type"), "image/jpeg");
        let (_, w, h) = images::jpeg_pixel(&jpeg.body, 0, 0);
        assert_eq!((w, h), (edge, edge / 2), "{variant}");
        for bytes in [&webp.body, &jpeg.body] {
            assert!(!contains(bytes, b"Exif") && !contains(bytes, b"GPS") && !contains(bytes, b"Pixel 9"), "{variant}");
        }
    }

    // The original: its owner gets it byte for byte; others only when allowed, and
    // then without GPS (but still upright).
    let mine = owner.get(&format!("/media/{id}/original")).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(&mine.body[..], &original[..]);
    assert_eq!(other.get(&format!("/media/{id}/original")).await.status, StatusCode::NOT_FOUND);
    owner.patch(&format!("/api/v1/photos/{id}"), json!({"allow_original": true})).await;
    let shared = other.get(&format!("/media/{id}/original")).await;
    assert_eq!(shared.status, StatusCode::OK);
    // Upright already (orientation 1): no EXIF at all is left.
    let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&shared.body[..]));
    assert!(matches!(exif, Err(exif::Error::NotFound(_))), "EXIF left in the shared original");
    assert!(!contains(&shared.body, b"GPS") && !contains(&shared.body, b"Pixel 9"));
    let (_, w, h) = images::jpeg_pixel(&shared.body, 0, 0);
    assert_eq!((w, h), (2400, 1200), "the same image data");

    // A rotated one keeps exactly its orientation, nothing else.
    let rotated = Jpeg { orientation: 6, gps: Some((22.5, 88.3)), seed: 5, ..Jpeg::default() }.encode();
    let turned = upload_one(&owner, album, &rotated).await["id"].as_i64().expect("id");
    owner.patch(&format!("/api/v1/photos/{turned}"), json!({"allow_original": true})).await;
    let shared = other.get(&format!("/media/{turned}/original")).await;
    let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&shared.body[..])).expect("EXIF");
    let orientation = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY).and_then(|f| f.value.get_uint(0));
    assert_eq!(orientation, Some(6));
    assert_eq!(exif.fields().count(), 1, "only the orientation");

    // Each privacy setting, as others see it.
    owner.patch(&format!("/api/v1/photos/{id}"), json!({"gps_privacy": "coarse"})).await;
    assert_eq!(
        other.get(&format!("/api/v1/photos/{id}")).await.json()["location"],
        json!({"lat": 22.57, "lon": 88.36, "precision": "coarse"})
    );
    owner.patch(&format!("/api/v1/photos/{id}"), json!({"gps_privacy": "exact"})).await;
    assert_eq!(other.get(&format!("/api/v1/photos/{id}")).await.json()["location"]["precision"], "exact");
}

async fn every_exif_orientation_comes_out_upright(store: Store) {
    let app = spawn(store, &[]).await;
    let owner = Api::register(&app, "ghurano").await;
    let album = album(&owner, "public").await;
    // Where the red half ends up once the orientation is applied (top-left quarter red?).
    let red_first = [true, false, false, true, true, true, false, false];
    for orientation in 1..=8u16 {
        let bytes = Jpeg { width: 64, height: 32, orientation, ..Jpeg::default() }.encode();
        let photo = upload_one(&owner, album, &bytes).await;
        let swapped = orientation >= 5;
        let expected = if swapped { (32, 64) } else { (64, 32) };
        assert_eq!(
            (photo["width"].as_u64(), photo["height"].as_u64()),
            (Some(expected.0), Some(expected.1)),
            "{orientation}"
        );
        let display = owner.get(&format!("/media/{}/display", photo["id"])).await;
        let (w, h) = (expected.0 as u32, expected.1 as u32);
        let (a, dw, dh) = images::jpeg_pixel(&display.body, w / 4, h / 4);
        let (b, _, _) = images::jpeg_pixel(&display.body, 3 * w / 4, 3 * h / 4);
        assert_eq!((dw, dh), (w, h), "orientation {orientation}");
        let red = |p: [u8; 3]| p[0] > p[2];
        assert_eq!(red(a), red_first[usize::from(orientation - 1)], "orientation {orientation}: {a:?} {b:?}");
        assert_eq!(red(b), !red_first[usize::from(orientation - 1)], "orientation {orientation}");
    }
}

async fn progressive_cmyk_alpha_and_16_bit_images_are_taken(store: Store) {
    let app = spawn(store, &[]).await;
    let owner = Api::register(&app, "rangeen").await;
    let album = album(&owner, "public").await;
    let files = [
        ("progressive", Jpeg { progressive: true, seed: 1, ..Jpeg::default() }.encode()),
        ("cmyk", Jpeg { cmyk: true, seed: 2, ..Jpeg::default() }.encode()),
        ("alpha", images::png_with_alpha(300, 200)),
        ("sixteen", images::png_16_bit(300, 200)),
    ];
    for (name, bytes) in &files {
        let photo = upload_one(&owner, album, bytes).await;
        let id = photo["id"].as_i64().expect("id");
        for variant in ["thumb", "display"] {
            for accept in ["image/webp", "image/jpeg"] {
                let got = owner.get_with(&format!("/media/{id}/{variant}"), &[("accept", accept)]).await;
                assert_eq!(got.status, StatusCode::OK, "{name} {variant} {accept}");
                assert!(got.body.len() > 100, "{name}");
            }
        }
        if *name == "alpha" {
            // JPEG has no alpha: the transparent half is laid on white.
            let jpeg = owner.get_with(&format!("/media/{id}/display"), &[("accept", "image/jpeg")]).await;
            let (p, _, _) = images::jpeg_pixel(&jpeg.body, 10, 100);
            assert!(p.iter().all(|c| *c > 230), "{p:?}");
        }
        if *name == "cmyk" {
            let jpeg = owner.get_with(&format!("/media/{id}/display"), &[("accept", "image/jpeg")]).await;
            let (left, _, _) = images::jpeg_pixel(&jpeg.body, 100, 100);
            assert!(left[0] > left[2], "red stays red: {left:?}");
        }
    }
}

async fn anything_but_an_image_is_refused_and_leaves_nothing(store: Store) {
    let app = spawn(store, &[("max-upload-bytes", "200000")]).await;
    let owner = Api::register(&app, "nakal").await;
    let album = album(&owner, "public").await;
    let good = Jpeg::default().encode();
    let cases: Vec<(&str, Vec<u8>, StatusCode)> = vec![
        ("zip.jpg", images::zip(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("script.svg", images::svg_with_script(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("page.jpg", b"<!DOCTYPE html><script>alert(1)</script>".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("bomb.png", images::png_bomb_header(), StatusCode::UNPROCESSABLE_ENTITY),
        ("half.jpg", good[..good.len() / 2].to_vec(), StatusCode::UNPROCESSABLE_ENTITY),
        ("empty.jpg", Vec::new(), StatusCode::UNPROCESSABLE_ENTITY),
        ("huge.jpg", [good.clone(), vec![0; 300_000]].concat(), StatusCode::PAYLOAD_TOO_LARGE),
    ];
    for (name, bytes, status) in cases {
        let answer = owner.upload(album, &[(name, &bytes)], None).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.text());
        let code = answer.json()["error"]["code"].as_str().unwrap_or("").to_owned();
        assert!(
            ["unsupported_media_type", "validation", "payload_too_large"].contains(&code.as_str()),
            "{name}: {code}"
        );
    }
    // A good file next to a bad one: neither is recorded.
    let mixed = owner.upload(album, &[("ok.jpg", &good), ("zip.jpg", &images::zip())], None).await;
    assert_eq!(mixed.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let photos = owner.get(&format!("/api/v1/albums/{album}/photos")).await.json();
    assert_eq!(photos["items"], json!([]), "nothing was recorded");
    // Not multipart, someone else's album, nobody logged in.
    let json_body = owner.post(&format!("/api/v1/albums/{album}/photos"), json!({})).await;
    assert_eq!(json_body.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let stranger = Api::register(&app, "anyajon").await;
    assert_eq!(stranger.upload(album, &[("ok.jpg", &good)], None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(Api::anonymous(&app).upload(album, &[("ok.jpg", &good)], None).await.status, StatusCode::UNAUTHORIZED);
}

async fn media_answers_ranges_and_revalidation(store: Store) {
    let app = spawn(store, &[]).await;
    let owner = Api::register(&app, "jhalak").await;
    let album = album(&owner, "public").await;
    let original = Jpeg { width: 1800, height: 1200, ..Jpeg::default() }.encode();
    let id = upload_one(&owner, album, &original).await["id"].as_i64().expect("id");
    for variant in ["display", "original"] {
        let path = format!("/media/{id}/{variant}");
        let full = owner.get_with(&path, &[("accept", "image/jpeg")]).await;
        assert_eq!(full.status, StatusCode::OK);
        assert_eq!(full.header("accept-ranges"), "bytes");
        let total = full.body.len();
        let part = owner.get_with(&path, &[("accept", "image/jpeg"), ("range", "bytes=10-109")]).await;
        assert_eq!(part.status, StatusCode::PARTIAL_CONTENT, "{variant}");
        assert_eq!(part.header("content-range"), format!("bytes 10-109/{total}"));
        assert_eq!(&part.body[..], &full.body[10..110]);
        let tail = owner.get_with(&path, &[("accept", "image/jpeg"), ("range", "bytes=-5")]).await;
        assert_eq!(&tail.body[..], &full.body[total - 5..]);
        let beyond = owner.get_with(&path, &[("accept", "image/jpeg"), ("range", &format!("bytes={total}-"))]).await;
        assert_eq!(beyond.status, StatusCode::RANGE_NOT_SATISFIABLE);
        let etag = full.header("etag").to_owned();
        assert!(etag.starts_with('"'), "a strong ETag: {etag}");
        let again = owner.get_with(&path, &[("accept", "image/jpeg"), ("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert!(again.body.is_empty());
    }
    let public = Api::anonymous(&app).get(&format!("/media/{id}/thumb")).await;
    assert_eq!(public.header("cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(Api::anonymous(&app).get(&format!("/media/{id}/poster")).await.status, StatusCode::NOT_FOUND);
}

async fn identical_uploads_at_once_give_one_photo(store: Store) {
    let app = spawn(store, &[]).await;
    let owner = Api::register(&app, "jomoj").await;
    let album = album(&owner, "public").await;
    let bytes = Jpeg { seed: 9, ..Jpeg::default() }.encode();
    let first: [(&str, &[u8]); 1] = [("a.jpg", &bytes)];
    let second: [(&str, &[u8]); 1] = [("b.jpg", &bytes)];
    let (a, b) = tokio::join!(owner.upload(album, &first, None), owner.upload(album, &second, None));
    assert_eq!((a.status, b.status), (StatusCode::CREATED, StatusCode::CREATED), "{} {}", a.text(), b.text());
    assert_eq!(a.json()["items"][0]["id"], b.json()["items"][0]["id"]);
    assert_eq!(owner.get(&format!("/api/v1/albums/{album}")).await.json()["photo_count"], 1);
    // The same bytes again, even into another album: the existing photo, 200.
    let other_album =
        owner.post("/api/v1/albums", json!({"title": "Elsewhere"})).await.json()["id"].as_i64().expect("id");
    let again = owner.upload(other_album, &[("c.jpg", &bytes)], None).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(again.json()["items"][0]["id"], a.json()["items"][0]["id"]);
    assert_eq!(owner.get(&format!("/api/v1/albums/{other_album}")).await.json()["photo_count"], 0);
}

async fn private_media_is_404_to_everyone_else(store: Store) {
    let app = spawn(store, &[]).await;
    let (owner, other) = (Api::register(&app, "gopon").await, Api::register(&app, "kautuhali").await);
    // A hot thumbnail (its row cached) goes dark the moment its album turns private.
    let public = album(&owner, "public").await;
    let hot =
        upload_one(&owner, public, &Jpeg { seed: 4, ..Jpeg::default() }.encode()).await["id"].as_i64().expect("id");
    for _ in 0..3 {
        assert_eq!(other.get(&format!("/media/{hot}/thumb")).await.status, StatusCode::OK);
    }
    owner.patch(&format!("/api/v1/albums/{public}"), json!({"visibility": "private"})).await;
    assert_eq!(other.get(&format!("/media/{hot}/thumb")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(owner.get(&format!("/media/{hot}/thumb")).await.status, StatusCode::OK);
    owner.delete(&format!("/api/v1/photos/{hot}")).await;
    assert_eq!(owner.get(&format!("/media/{hot}/thumb")).await.status, StatusCode::NOT_FOUND);
    let private = album(&owner, "private").await;
    let id =
        upload_one(&owner, private, &Jpeg { seed: 3, ..Jpeg::default() }.encode()).await["id"].as_i64().expect("id");
    owner.patch(&format!("/api/v1/photos/{id}"), json!({"allow_original": true})).await;
    for variant in ["thumb", "display", "original"] {
        let path = format!("/media/{id}/{variant}");
        assert_eq!(other.get(&path).await.status, StatusCode::NOT_FOUND, "{variant}");
        assert_eq!(Api::anonymous(&app).get(&path).await.status, StatusCode::NOT_FOUND, "{variant}");
        let mine = owner.get(&path).await;
        assert_eq!(mine.status, StatusCode::OK, "{variant}");
        assert!(mine.header("cache-control").starts_with("private"), "{variant}");
    }
}

/// s3s-fs of this test's own, stopped in the middle: the upload is 503 and leaves no
/// photo; once it is back, uploads work again.
#[tokio::test]
async fn an_s3_outage_during_an_upload_is_503_and_records_nothing() {
    let root = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(root.path().join("outage")).expect("bucket");
    let port = common::free_port();
    let start = || {
        std::process::Command::new(env("TEST_S3S_BIN"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", "pujo-test", "--secret-key", "pujo-test-secret"])
            .arg(root.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("s3s-fs starts")
    };
    let mut server = start();
    let endpoint = format!("http://127.0.0.1:{port}");
    assert!(
        common::eventually(std::time::Duration::from_secs(10), || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok()
        })
        .await
    );
    let data = tempfile::tempdir().expect("dir");
    let settings = [
        ("s3-bucket", "outage"),
        ("s3-endpoint", endpoint.as_str()),
        ("s3-path-style", "true"),
        ("s3-access-key-id", "pujo-test"),
        ("s3-secret-access-key", "pujo-test-secret"),
        ("s3-timeout", "2s"),
    ];
    let app = common::spawn_app_in(data, &settings).await;
    let owner = Api::register(&app, "durbhog").await;
    let album = album(&owner, "public").await;
    upload_one(&owner, album, &Jpeg { seed: 1, ..Jpeg::default() }.encode()).await;

    server.kill().expect("stop s3s-fs");
    server.wait().expect("stopped");
    let started = std::time::Instant::now();
    let failed = owner.upload(album, &[("b.jpg", &Jpeg { seed: 2, ..Jpeg::default() }.encode())], None).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.text());
    assert_eq!(failed.json()["error"]["code"], "unavailable");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(owner.get(&format!("/api/v1/albums/{album}")).await.json()["photo_count"], 1, "no photo row");
    // S3 down costs uploads and originals, not the site: still ready, but degraded.
    let ready = common::get(&app.url("/ready"), &[]).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.json()["status"], "degraded");
    assert_eq!(ready.json()["checks"]["blob_store"]["status"], "failed");

    let mut server = start();
    let back = common::eventually(std::time::Duration::from_secs(15), || async {
        owner.upload(album, &[("c.jpg", &Jpeg { seed: 3, ..Jpeg::default() }.encode())], None).await.status
            == StatusCode::CREATED
    })
    .await;
    server.kill().ok();
    server.wait().ok();
    assert!(back, "uploads work again once S3 is back");
}

/// Leaving takes a person's photo bytes with them, except bytes someone else
/// uploaded too; and the media metrics count what happened.
#[tokio::test]
async fn a_departed_accounts_blobs_go_unless_shared() {
    let app = spawn(Store::Fs, &[]).await;
    let (leaving, staying) = (Api::register(&app, "bidai").await, Api::register(&app, "thaka").await);
    let (mine, shared) = (Jpeg { seed: 21, ..Jpeg::default() }.encode(), Jpeg { seed: 22, ..Jpeg::default() }.encode());
    let a = album(&leaving, "public").await;
    upload_one(&leaving, a, &mine).await;
    upload_one(&leaving, a, &shared).await;
    let b = album(&staying, "public").await;
    let kept = upload_one(&staying, b, &shared).await["id"].as_i64().expect("id");
    let blob = |bytes: &[u8]| {
        use sha2::Digest;
        let hex: String = sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
        app.data.path().join("blobs/uploads").join(hex)
    };
    assert!(blob(&mine).is_file() && blob(&shared).is_file());

    let gone = leaving.call("DELETE", "/api/v1/me", Some(r#"{"password":"shiuli-phool-2026"}"#)).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let cleaned = common::eventually(std::time::Duration::from_secs(10), || async { !blob(&mine).exists() }).await;
    assert!(cleaned, "the departed person's own bytes are deleted");
    assert!(blob(&shared).is_file(), "bytes someone else uploaded stay");
    assert_eq!(staying.get(&format!("/media/{kept}/display")).await.status, StatusCode::OK);

    let metrics = common::get(&app.admin_url("/metrics"), &[]).await.text();
    for line in [
        "uploads_total{outcome=\"stored\"} 3",
        "blob_store_operations_total{backend=\"fs\",op=\"put\",outcome=\"ok\"}",
        "blob_store_operations_total{backend=\"fs\",op=\"delete\",outcome=\"ok\"}",
        "media_cache_requests_total{result=\"miss\"}",
        "media_processing_seconds_count 3",
    ] {
        assert!(metrics.contains(line), "{line} missing from /metrics");
    }
}

/// Junk where a part's headers belong was buffered without limit and rescanned at
/// every read (one such upload pinned a core and grew memory). Now it is refused once
/// it passes `MAX_PART_HEADER_BYTES`, long before the client stops sending.
#[tokio::test]
async fn a_flood_where_part_headers_belong_is_refused_early() {
    use http_body_util::StreamBody;
    use hyper::body::Frame;
    let app = spawn(Store::Fs, &[]).await;
    let owner = Api::register(&app, "flood").await;
    let album = album(&owner, "public").await;
    let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(2);
    let body = StreamBody::new(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::convert::Infallible>(Frame::data(b)), rx))
    }));
    let origin = format!("http://{}", app.addr);
    let request = http::Request::post(app.url(&format!("/api/v1/albums/{album}/photos")))
        .header("host", app.addr.to_string())
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .header("origin", origin)
        .header("sec-fetch-site", "same-origin")
        .header("cookie", owner.cookie.clone().expect("session"))
        .body(body)
        .expect("request");
    let tcp = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await.expect("h1");
    tokio::spawn(conn);
    let mut response = Box::pin(sender.send_request(request));
    let junk = bytes::Bytes::from(vec![b'a'; 64 * 1024]);
    let mut sent = 0usize;
    let first = bytes::Bytes::from_static(
        b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\nX-Junk: ",
    );
    tx.send(first).await.expect("send");
    let answer = loop {
        tokio::select! {
            answer = &mut response => break answer.expect("an answer"),
            sent_ok = tx.send(junk.clone()), if sent < 64 * 1024 * 1024 => {
                if sent_ok.is_err() { continue; }
                sent += junk.len();
            }
            () = tokio::time::sleep(std::time::Duration::from_secs(20)) => panic!("no answer after {sent} bytes"),
        }
    };
    drop(tx);
    let answer = common::read(answer).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.text());
    assert!(answer.text().contains("headers are longer"), "{}", answer.text());
    assert!(sent < 4 * 1024 * 1024, "the server read {sent} bytes of junk headers before refusing");
}
