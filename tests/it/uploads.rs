//! Resumable uploads over the tus 1.0 protocol, as a phone on a crowded network uses
//! them: chunks, a dropped connection, a restart of Pujo between chunks, checksums,
//! expiry; and as a stranger tries them.

use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http::StatusCode;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::common::api::Api;
use crate::common::images::Jpeg;
use crate::common::{self, Answer, send, stop};

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A tus request with this person's session, as tus-js-client sends it from the site.
async fn tus(api: &Api<'_>, method: &str, path: &str, extra: &[(&str, &str)], body: &[u8]) -> Answer {
    let origin = format!("http://{}", api.app.addr);
    let mut headers = vec![("origin", origin.as_str()), ("tus-resumable", "1.0.0")];
    if let Some(cookie) = &api.cookie {
        headers.push(("cookie", cookie));
    }
    headers.extend_from_slice(extra);
    send(method, &api.app.url(path), &headers, Bytes::copy_from_slice(body)).await
}

async fn album(api: &Api<'_>) -> i64 {
    let a = api.post("/api/v1/albums", json!({"title": "Nabami night", "visibility": "public"})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    a.json()["id"].as_i64().expect("id")
}

/// Creates an upload of `length` bytes into `album`; its path.
async fn create(api: &Api<'_>, album: i64, length: usize, caption: &str) -> String {
    let metadata =
        format!("album_id {},filename {},caption {}", b64(&album.to_string()), b64("arati.jpg"), b64(caption));
    let length = length.to_string();
    let created =
        tus(api, "POST", "/api/v1/uploads", &[("upload-length", &length), ("upload-metadata", &metadata)], b"").await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.header("upload-offset"), "0");
    assert!(!created.header("upload-expires").is_empty());
    created.header("location").to_owned()
}

/// A creation carrying its first bytes (tus creation-with-upload).
async fn create_with_bytes(
    api: &Api<'_>,
    length: &str,
    metadata: &str,
    extra: &[(&str, &str)],
    bytes: &[u8],
) -> Answer {
    let mut headers = vec![
        ("upload-length", length),
        ("upload-metadata", metadata),
        ("content-type", "application/offset+octet-stream"),
    ];
    headers.extend_from_slice(extra);
    tus(api, "POST", "/api/v1/uploads", &headers, bytes).await
}

async fn chunk(api: &Api<'_>, path: &str, offset: usize, bytes: &[u8]) -> Answer {
    let offset = offset.to_string();
    tus(api, "PATCH", path, &[("content-type", "application/offset+octet-stream"), ("upload-offset", &offset)], bytes)
        .await
}

/// A PATCH whose body a test sends by hand (slowly, or cut off) to `app`: the
/// connection, its head sent. `length` is a Content-Length; `None` sends it chunked.
async fn raw_patch(
    app: &common::TestApp,
    api: &Api<'_>,
    path: &str,
    offset: usize,
    length: Option<usize>,
) -> tokio::net::TcpStream {
    raw_patch_to(app.addr, api, path, offset, length).await
}

async fn raw_patch_to(
    addr: std::net::SocketAddr,
    api: &Api<'_>,
    path: &str,
    offset: usize,
    length: Option<usize>,
) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let cookie = api.cookie.clone().expect("session");
    let framing = length.map_or_else(|| "Transfer-Encoding: chunked".to_owned(), |n| format!("Content-Length: {n}"));
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {0}\r\nOrigin: http://{0}\r\nCookie: {cookie}\r\nTus-Resumable: 1.0.0\r\n\
         Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\n{framing}\r\n\r\n",
        addr
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream
}

/// The first read of the answer to a request sent by hand, lowercased.
async fn raw_answer(stream: &mut tokio::net::TcpStream) -> String {
    let mut answer = vec![0u8; 4096];
    let n = tokio::io::AsyncReadExt::read(stream, &mut answer).await.expect("answer");
    String::from_utf8_lossy(&answer[..n]).to_lowercase()
}

async fn offset_of(api: &Api<'_>, path: &str) -> Answer {
    tus(api, "HEAD", path, &[], b"").await
}

#[tokio::test]
async fn a_photo_arrives_in_chunks_across_a_restart_and_says_which_photo_it_became() {
    let app = common::spawn_app().await;
    let owner = Api::register(&app, "dhaki").await;
    let album_id = album(&owner).await;
    let photo = Jpeg { width: 640, height: 480, ..Jpeg::default() }.encode();
    let path = create(&owner, album_id, photo.len(), "Dhunuchi naach").await;
    let half = photo.len() / 2;
    let first = chunk(&owner, &path, 0, &photo[..half]).await;
    assert_eq!(first.status, StatusCode::NO_CONTENT, "{}", first.text());
    assert_eq!(first.header("upload-offset"), half.to_string());
    assert_eq!(first.header("tus-resumable"), "1.0.0");

    // Pujo restarts between two chunks; the acknowledged offset is still there.
    let cookie = owner.cookie.clone();
    let data = stop(app).await;
    let app = common::spawn_app_in(data, &[]).await;
    let owner = Api { app: &app, cookie, user: serde_json::Value::Null };
    let head = offset_of(&owner, &path).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("upload-offset"), half.to_string());
    assert_eq!(head.header("upload-length"), photo.len().to_string());
    assert_eq!(head.header("cache-control"), "no-store");

    // A chunk at another offset is refused and names the right one.
    let wrong = chunk(&owner, &path, 0, &photo[..10]).await;
    assert_eq!(wrong.status, StatusCode::CONFLICT);
    assert_eq!(wrong.header("upload-offset"), half.to_string());

    let last = chunk(&owner, &path, half, &photo[half..]).await;
    assert_eq!(last.status, StatusCode::NO_CONTENT, "{}", last.text());
    assert_eq!(last.header("upload-offset"), photo.len().to_string());
    let photo_id: i64 = last.header("pujo-photo-id").parse().expect("the photo's id");
    let shown = owner.get(&format!("/api/v1/photos/{photo_id}")).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text());
    assert_eq!(shown.json()["caption"], "Dhunuchi naach");
    assert_eq!(shown.json()["album_id"], album_id);
    // Asked again (the answer was lost on the way), the upload names its photo.
    let again = offset_of(&owner, &path).await;
    assert_eq!(again.header("pujo-photo-id"), photo_id.to_string());
    assert!(
        std::fs::read_dir(app.data.path().join("resumable")).expect("dir").next().is_none(),
        "no partial file left"
    );
}

#[tokio::test]
async fn bytes_that_arrived_before_a_dropped_connection_are_kept() {
    let app = common::spawn_app().await;
    let owner = Api::register(&app, "kashful").await;
    let album_id = album(&owner).await;
    let photo = Jpeg { width: 900, height: 600, seed: 3, ..Jpeg::default() }.encode();
    let path = create(&owner, album_id, photo.len(), "").await;
    // The phone loses its network halfway through a chunk it announced whole.
    let mut stream = raw_patch(&app, &owner, &path, 0, Some(photo.len())).await;
    let sent = photo.len() / 3;
    stream.write_all(&photo[..sent]).await.expect("some bytes");
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(stream);
    let kept = common::eventually(Duration::from_secs(5), || {
        let (owner, path) = (&owner, &path);
        async move { offset_of(owner, path).await.header("upload-offset") == sent.to_string() }
    })
    .await;
    assert!(kept, "the bytes sent before the drop are the offset to resume from");
    let rest = chunk(&owner, &path, sent, &photo[sent..]).await;
    assert_eq!(rest.status, StatusCode::NO_CONTENT, "{}", rest.text());
    assert!(!rest.header("pujo-photo-id").is_empty());
}

#[tokio::test]
async fn uploads_are_the_owners_bounded_and_checked() {
    let app = common::spawn_app_with(&[("max-upload-bytes", "200000")]).await;
    let owner = Api::register(&app, "shankha").await;
    let album_id = album(&owner).await;
    let photo = Jpeg { seed: 9, ..Jpeg::default() }.encode();

    // What the server speaks.
    let options = send("OPTIONS", &app.url("/api/v1/uploads"), &[], Bytes::new()).await;
    assert_eq!(options.status, StatusCode::NO_CONTENT);
    assert_eq!(options.header("tus-version"), "1.0.0");
    assert_eq!(options.header("tus-extension"), "creation,creation-with-upload,termination,expiration,checksum");
    assert_eq!(options.header("tus-max-size"), "200000");
    assert_eq!(options.header("tus-checksum-algorithm"), "sha1,sha256");

    // Another version, no length, too long, nobody logged in, someone else's album.
    let metadata = format!("album_id {}", b64(&album_id.to_string()));
    let origin = format!("http://{}", app.addr);
    let cookie = owner.cookie.clone().expect("session");
    let old = send(
        "POST",
        &app.url("/api/v1/uploads"),
        &[("origin", &origin), ("cookie", &cookie), ("tus-resumable", "0.2.2"), ("upload-length", "10")],
        Bytes::new(),
    )
    .await;
    assert_eq!(old.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(old.header("tus-version"), "1.0.0");
    let no_length = tus(&owner, "POST", "/api/v1/uploads", &[("upload-metadata", &metadata)], b"").await;
    assert_eq!(no_length.status, StatusCode::UNPROCESSABLE_ENTITY);
    let huge =
        tus(&owner, "POST", "/api/v1/uploads", &[("upload-length", "200001"), ("upload-metadata", &metadata)], b"")
            .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    let anonymous = tus(
        &Api::anonymous(&app),
        "POST",
        "/api/v1/uploads",
        &[("upload-length", "10"), ("upload-metadata", &metadata)],
        b"",
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let stranger = Api::register(&app, "ghoti").await;
    let theirs =
        tus(&stranger, "POST", "/api/v1/uploads", &[("upload-length", "10"), ("upload-metadata", &metadata)], b"")
            .await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    let no_album = tus(&owner, "POST", "/api/v1/uploads", &[("upload-length", "10")], b"").await;
    assert_eq!(no_album.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_album.json()["error"]["code"], "validation");

    // Creation with the first bytes in the same request.
    let length = photo.len().to_string();
    let with_body = create_with_bytes(&owner, &length, &metadata, &[], &photo[..100]).await;
    assert_eq!(with_body.status, StatusCode::CREATED, "{}", with_body.text());
    assert_eq!(with_body.header("upload-offset"), "100");
    let path = with_body.header("location").to_owned();

    // Only its owner sees it; the id alone is not enough. Errors speak tus too.
    let hidden = offset_of(&stranger, &path).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(hidden.header("tus-resumable"), "1.0.0");
    assert_eq!(chunk(&stranger, &path, 100, b"x").await.status, StatusCode::NOT_FOUND);

    // A chunk of the wrong type, one longer than what is left, one whose checksum fails.
    let typed = tus(&owner, "PATCH", &path, &[("content-type", "image/jpeg"), ("upload-offset", "100")], b"x").await;
    assert_eq!(typed.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut too_long = photo[100..].to_vec();
    too_long.push(0);
    assert_eq!(chunk(&owner, &path, 100, &too_long).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let wrong_sum = format!("sha256 {}", base64::engine::general_purpose::STANDARD.encode([7u8; 32]));
    let bad = tus(
        &owner,
        "PATCH",
        &path,
        &[
            ("content-type", "application/offset+octet-stream"),
            ("upload-offset", "100"),
            ("upload-checksum", &wrong_sum),
        ],
        &photo[100..200],
    )
    .await;
    assert_eq!(bad.status.as_u16(), 460, "{}", bad.text());
    assert_eq!(offset_of(&owner, &path).await.header("upload-offset"), "100", "the failed chunk was not kept");
    // sha1, which tus requires of every server (tuspy sends nothing else), is checked too.
    let wrong_sha1 = format!("sha1 {}", base64::engine::general_purpose::STANDARD.encode([7u8; 20]));
    fn with(sum: &str) -> [(&str, &str); 3] {
        [("content-type", "application/offset+octet-stream"), ("upload-offset", "100"), ("upload-checksum", sum)]
    }
    let bad = tus(&owner, "PATCH", &path, &with(&wrong_sha1), &photo[100..150]).await;
    assert_eq!(bad.status.as_u16(), 460, "{}", bad.text());
    let unknown = tus(&owner, "PATCH", &path, &with("md5 AAAA"), &photo[100..150]).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.text());
    assert_eq!(offset_of(&owner, &path).await.header("upload-offset"), "100");
    use sha2::Digest;
    let right_sum =
        format!("sha256 {}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&photo[100..200])));
    let good = tus(
        &owner,
        "PATCH",
        &path,
        &[
            ("content-type", "application/offset+octet-stream"),
            ("upload-offset", "100"),
            ("upload-checksum", &right_sum),
        ],
        &photo[100..200],
    )
    .await;
    assert_eq!(good.status, StatusCode::NO_CONTENT, "{}", good.text());
    assert_eq!(good.header("upload-offset"), "200");

    // Termination: gone, and its bytes with it.
    assert_eq!(tus(&owner, "DELETE", &path, &[], b"").await.status, StatusCode::NO_CONTENT);
    assert_eq!(offset_of(&owner, &path).await.status, StatusCode::NOT_FOUND);
    assert!(std::fs::read_dir(app.data.path().join("resumable")).expect("dir").next().is_none());

    // A creation whose first bytes fail their checksum leaves nothing behind: the
    // client never learnt its address.
    let failed = create_with_bytes(&owner, &length, &metadata, &[("upload-checksum", &wrong_sum)], &photo[..100]).await;
    assert_eq!(failed.status.as_u16(), 460);
    assert!(std::fs::read_dir(app.data.path().join("resumable")).expect("dir").next().is_none(), "no orphan left");

    // Acknowledged bytes that went missing from the disk are never padded with zeros.
    let path = create(&owner, album_id, photo.len(), "").await;
    assert_eq!(chunk(&owner, &path, 0, &photo[..300]).await.status, StatusCode::NO_CONTENT);
    let id = path.rsplit('/').next().expect("id");
    std::fs::write(app.data.path().join("resumable").join(id), b"").expect("lose the bytes");
    assert_eq!(chunk(&owner, &path, 300, &photo[300..600]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(offset_of(&owner, &path).await.status, StatusCode::NOT_FOUND);

    // A file that is not a photo is refused when its last byte arrives, like a multipart one.
    let junk = b"not a photo, only words".to_vec();
    let path = create(&owner, album_id, junk.len(), "").await;
    let refused = chunk(&owner, &path, 0, &junk).await;
    assert_eq!(refused.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", refused.text());
    assert_eq!(offset_of(&owner, &path).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unfinished_uploads_expire_and_their_bytes_go() {
    let app = common::spawn_app_with(&[("upload-expiry", "1s")]).await;
    let owner = Api::register(&app, "pradip").await;
    let album_id = album(&owner).await;
    let path = create(&owner, album_id, 1000, "").await;
    assert_eq!(chunk(&owner, &path, 0, &[1u8; 400]).await.status, StatusCode::NO_CONTENT);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(offset_of(&owner, &path).await.status, StatusCode::NOT_FOUND, "expired");
    // The sweep (at start and every ten minutes) removes the row and the partial file.
    let data = stop(app).await;
    let app = common::spawn_app_in(data, &[("upload-expiry", "1s")]).await;
    let gone = common::eventually(Duration::from_secs(5), || async {
        std::fs::read_dir(app.data.path().join("resumable")).expect("dir").next().is_none()
    })
    .await;
    assert!(gone, "the expired upload's partial file was removed");
    let metrics = common::get(&app.admin_url("/metrics"), &[]).await;
    assert!(String::from_utf8_lossy(&metrics.body).contains("resumable_uploads_total{event=\"expired\"} 1"));
}

#[tokio::test]
async fn one_request_at_a_time_appends_to_an_upload() {
    let app = common::spawn_app().await;
    let owner = Api::register(&app, "ulu").await;
    let album_id = album(&owner).await;
    let photo = Jpeg { seed: 21, ..Jpeg::default() }.encode();
    let path = create(&owner, album_id, photo.len(), "").await;
    // A slow phone's chunk, still arriving.
    let mut slow = raw_patch(&app, &owner, &path, 0, Some(photo.len())).await;
    slow.write_all(&photo[..50]).await.expect("first bytes");
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The same chunk again from a retry: its bytes would interleave with the first's.
    let second = chunk(&owner, &path, 0, &photo).await;
    assert_eq!(second.status, StatusCode::LOCKED, "{}", second.text());
    // Nor is it deleted under the writer's feet.
    assert_eq!(tus(&owner, "DELETE", &path, &[], b"").await.status, StatusCode::LOCKED);
    slow.write_all(&photo[50..]).await.expect("the rest");
    let mut answer = vec![0u8; 1024];
    let n = tokio::io::AsyncReadExt::read(&mut slow, &mut answer).await.expect("answer");
    assert!(
        String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 204"),
        "{}",
        String::from_utf8_lossy(&answer[..n])
    );
    assert_eq!(offset_of(&owner, &path).await.header("upload-offset"), photo.len().to_string());
}

/// A photo of noise, which compresses badly: about 2.7 bytes a pixel.
fn noisy(w: u16, h: u16) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64 ^ u64::from(w);
    let px: Vec<u8> = (0..usize::from(w) * usize::from(h) * 3)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 95).encode(&px, w, h, jpeg_encoder::ColorType::Rgb).expect("JPEG");
    out
}

/// About 12 MiB: more than two S3 parts.
fn big_photo() -> Vec<u8> {
    let out = noisy(2600, 2200);
    assert!(out.len() > 11 * 1024 * 1024, "{} bytes: not enough for two parts and a tail", out.len());
    out
}

/// A replica on a shared PostgreSQL database and S3 bucket.
async fn replica(db_url: &str, s3: &[(&'static str, String)], extra: &[(&'static str, &str)]) -> common::TestApp {
    let mut settings: Vec<(&'static str, &str)> = vec![("database-url", db_url), ("migrate", "true")];
    settings.extend(s3.iter().map(|(k, v)| (*k, v.as_str())));
    settings.extend_from_slice(extra);
    common::spawn_app_in(tempfile::tempdir().expect("dir"), &settings).await
}

/// The folder s3s-fs keeps the test's bucket in.
fn bucket_root(s3: &[(&'static str, String)]) -> std::path::PathBuf {
    let bucket = &s3.iter().find(|(k, _)| *k == "s3-bucket").expect("bucket").1;
    std::path::Path::new(&std::env::var("TEST_S3_ROOT").expect("TEST_S3_ROOT")).join(bucket)
}

/// Every file under the bucket's `partial/` folder (s3s-fs keeps objects as files).
fn partial_objects(s3: &[(&'static str, String)]) -> Vec<std::path::PathBuf> {
    let root = bucket_root(s3).join("partial");
    let mut found = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    found
}

/// The S3 multipart upload behind a resumable upload, as the database holds it.
async fn multipart_of(db_url: &str, upload_path: &str) -> Option<String> {
    let (client, connection) = tokio_postgres::connect(db_url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let id = upload_path.rsplit('/').next().expect("id");
    let row = client.query_one("SELECT multipart FROM uploads WHERE id = $1", &[&id]).await.expect("the upload's row");
    row.get(0)
}

/// Whether s3s-fs still holds parts of multipart upload `id` (files beside the buckets).
fn multipart_parts_left(id: &str) -> bool {
    let root = std::env::var("TEST_S3_ROOT").expect("TEST_S3_ROOT");
    std::fs::read_dir(root).expect("s3 root").flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.starts_with(&format!(".upload_id-{id}")) && name.contains(".part-")
    })
}

/// Sends `bytes` from `from` in chunks of `size`; the offset reached.
async fn send_chunks(api: &Api<'_>, path: &str, photo: &[u8], from: usize, to: usize, size: usize) -> usize {
    let mut at = from;
    while at < to {
        let end = (at + size).min(to);
        let sent = chunk(api, path, at, &photo[at..end]).await;
        assert_eq!(sent.status, StatusCode::NO_CONTENT, "chunk at {at}: {}", sent.text());
        assert_eq!(sent.header("upload-offset"), end.to_string());
        at = end;
    }
    at
}

#[tokio::test]
async fn on_s3_a_second_replica_finishes_an_upload_the_first_began() {
    let db_url = common::db::create_postgres_database().await;
    let s3 = crate::media::s3_settings();
    let a = replica(&db_url, &s3, &[]).await;
    let b = replica(&db_url, &s3, &[]).await;
    let owner = Api::register(&a, "sindur").await;
    let album_id = album(&owner).await;
    let photo = big_photo();
    let path = create(&owner, album_id, photo.len(), "Sindur khela").await;

    // A phone sends 256 kB chunks to replica A: they wait in the bucket as small
    // objects until, past S3's 5 MiB part minimum, they become a part; twice.
    let half = 10 * 1024 * 1024 + 256 * 1024;
    send_chunks(&owner, &path, &photo, 0, half, 256 * 1024).await;
    let multipart = multipart_of(&db_url, &path).await.expect("a multipart upload took the parts");
    // On S3 each chunk kept costs requests: a small one (but the last) is refused.
    let small = chunk(&owner, &path, half, &photo[half..half + 1000]).await;
    assert_eq!(small.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", small.text());
    assert!(multipart_parts_left(&multipart), "the part is in the bucket");
    assert!(!partial_objects(&s3).is_empty(), "the bytes past the part wait in the bucket");

    // The load balancer sends the rest to replica B, which finds where A stopped.
    let on_b = Api { app: &b, cookie: owner.cookie.clone(), user: serde_json::Value::Null };
    let head = offset_of(&on_b, &path).await;
    assert_eq!(head.status, StatusCode::OK, "{}", head.text());
    assert_eq!(head.header("upload-offset"), half.to_string());

    // While a slow chunk is arriving at B, A refuses another for the same upload.
    let mut slow = raw_patch(&b, &owner, &path, half, Some(photo.len() - half)).await;
    slow.write_all(&photo[half..half + 1000]).await.expect("first bytes");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let racing = chunk(&owner, &path, half, &photo[half..]).await;
    assert_eq!(racing.status, StatusCode::LOCKED, "{}", racing.text());
    slow.write_all(&photo[half + 1000..]).await.expect("the rest");
    let answer = raw_answer(&mut slow).await;
    assert!(answer.starts_with("http/1.1 204"), "{answer}");

    // Both replicas name the photo, which is the file the phone sent.
    let done = offset_of(&owner, &path).await;
    let photo_id: i64 = done.header("pujo-photo-id").parse().expect("the photo's id");
    assert!(answer.contains(&format!("pujo-photo-id: {photo_id}")), "{answer}");
    let original = owner.get(&format!("/media/{photo_id}/original")).await;
    assert_eq!(original.status, StatusCode::OK);
    assert_eq!(original.body.len(), photo.len(), "the owner's original is the file as sent");
    assert!(original.body[..] == photo[..], "the file was put together in order");
    assert_eq!(owner.get(&format!("/api/v1/photos/{photo_id}")).await.json()["caption"], "Sindur khela");
    // Nothing of the partial upload is left in the bucket.
    assert!(partial_objects(&s3).is_empty(), "{:?}", partial_objects(&s3));
    assert!(!multipart_parts_left(&multipart));
}

/// A chunk between others costs three statements: its claim, which reads the upload;
/// the claim renewed before the bucket's write; and the acknowledgment, which lets go
/// of the claim in the same write (it was a fourth). Another replica then takes the
/// next chunk at once, not when the claim would have lapsed.
#[tokio::test]
async fn on_s3_a_chunk_is_three_database_calls_and_lets_go_of_its_claim() {
    let db_url = common::db::create_postgres_database().await;
    let s3 = crate::media::s3_settings();
    let a = replica(&db_url, &s3, &[]).await;
    let b = replica(&db_url, &s3, &[]).await;
    let owner = Api::register(&a, "alpana").await;
    let album_id = album(&owner).await;
    let photo = noisy(400, 300);
    let path = create(&owner, album_id, photo.len(), "").await;
    let size = 64 * 1024;
    assert!(photo.len() > 4 * size, "{} bytes", photo.len());
    // The first chunk finds the session; the next two are counted, and the fewer calls
    // stand (a session read while the cache bus is starting goes to the database).
    send_chunks(&owner, &path, &photo, 0, size, size).await;
    let mut calls = Vec::new();
    for n in 1..3 {
        let before = common::metric(&a, "db_queries_total", &[]).await;
        send_chunks(&owner, &path, &photo, n * size, (n + 1) * size, size).await;
        calls.push(common::metric(&a, "db_queries_total", &[]).await - before);
    }
    assert_eq!(calls.iter().copied().fold(f64::MAX, f64::min), 3.0, "{calls:?}");
    // Each phase of each chunk is timed, for an operator to tell where a slow one waits.
    for phase in ["claim", "receive", "keep"] {
        let timed = common::metric(&a, "resumable_upload_chunk_phase_seconds_count", &[("phase", phase)]).await;
        assert_eq!(timed, 3.0, "{phase}");
    }
    let on_b = Api { app: &b, cookie: owner.cookie.clone(), user: serde_json::Value::Null };
    let next = chunk(&on_b, &path, 3 * size, &photo[3 * size..]).await;
    assert_eq!(next.status, StatusCode::NO_CONTENT, "{}", next.text());
    assert!(!next.header("pujo-photo-id").is_empty());
}

/// On S3 a chunk of a declared length is held in memory until it is whole; one sent
/// without a length (chunked) goes through a temp file. Both are kept alike, and the
/// photo is the bytes of both.
#[tokio::test]
async fn on_s3_a_chunk_without_a_length_goes_through_a_temp_file_and_both_kinds_make_one_photo() {
    let db_url = common::db::create_postgres_database().await;
    let s3 = crate::media::s3_settings();
    let app = replica(&db_url, &s3, &[]).await;
    let owner = Api::register(&app, "chalchitra").await;
    let album_id = album(&owner).await;
    let photo = noisy(400, 300);
    let path = create(&owner, album_id, photo.len(), "").await;
    let first = 100 * 1024;
    let temp = app.data.path().join("tmp");
    let temp_files = || std::fs::read_dir(&temp).map(|d| d.count()).unwrap_or(0);
    let mut stream = raw_patch(&app, &owner, &path, 0, None).await;
    for part in photo[..first].chunks(30_000) {
        stream.write_all(format!("{:x}\r\n", part.len()).as_bytes()).await.expect("chunk size");
        stream.write_all(part).await.expect("bytes");
        stream.write_all(b"\r\n").await.expect("chunk end");
    }
    let in_file = common::eventually(Duration::from_secs(5), || async { temp_files() == 1 }).await;
    assert!(in_file, "a chunk without a length waits in a temp file");
    stream.write_all(b"0\r\n\r\n").await.expect("end of body");
    let kept = raw_answer(&mut stream).await;
    assert!(kept.starts_with("http/1.1 204"), "{kept}");
    assert!(kept.contains(&format!("upload-offset: {first}")), "{kept}");
    // The last chunk declares its length: it arrives in memory, no file is made for it.
    let mut stream = raw_patch(&app, &owner, &path, first, Some(photo.len() - first)).await;
    stream.write_all(&photo[first..first + 70_000]).await.expect("some bytes");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(temp_files(), 0, "a chunk of a declared length waits in memory");
    stream.write_all(&photo[first + 70_000..]).await.expect("the rest");
    let last = raw_answer(&mut stream).await;
    assert!(last.starts_with("http/1.1 204"), "{last}");
    let photo_id = offset_of(&owner, &path).await.header("pujo-photo-id").to_owned();
    let original = owner.get(&format!("/media/{photo_id}/original")).await;
    assert!(original.body[..] == photo[..], "the photo is both chunks' bytes, in order");
}

/// The chunk that makes the waiting segments a part removes those segments only. It
/// has let go of its claim by then, and the next chunk, which another replica may take
/// at once, can already be waiting as a segment just past them: removing that one
/// would lose acknowledged bytes, and the upload with them.
#[tokio::test]
async fn on_s3_a_new_part_removes_only_the_segments_it_took_in() {
    let db_url = common::db::create_postgres_database().await;
    let s3 = crate::media::s3_settings();
    let app = replica(&db_url, &s3, &[]).await;
    let owner = Api::register(&app, "nabapatrika").await;
    let album_id = album(&owner).await;
    let photo = big_photo();
    let path = create(&owner, album_id, photo.len(), "").await;
    let mib = 1024 * 1024;
    // Four segments of a megabyte wait; the fifth chunk makes them a 5 MiB part.
    send_chunks(&owner, &path, &photo, 0, 4 * mib, mib).await;
    assert!(multipart_of(&db_url, &path).await.is_none(), "no part yet");
    let id = path.rsplit('/').next().expect("id");
    let root = bucket_root(&s3);
    // The next chunk, as if another replica had already kept it (a stand-in: its bytes
    // are not the photo's, and the test ends before anything reads them).
    let next = root.join(format!("partial/{id}/s/{:012}", 5 * mib));
    std::fs::create_dir_all(next.parent().expect("folder")).expect("segments folder");
    std::fs::write(&next, b"the next chunk").expect("a segment");
    send_chunks(&owner, &path, &photo, 4 * mib, 5 * mib, mib).await;
    assert!(multipart_of(&db_url, &path).await.is_some(), "the segments became a part");
    let segments: Vec<_> =
        partial_objects(&s3).into_iter().filter(|p| p.parent().is_some_and(|d| d.ends_with("s"))).collect();
    assert_eq!(segments, [next], "only the segment past the part is left");
}

#[tokio::test]
async fn on_s3_an_abandoned_upload_leaves_nothing_in_the_bucket() {
    let db_url = common::db::create_postgres_database().await;
    let s3 = crate::media::s3_settings();
    let app = replica(&db_url, &s3, &[("upload-expiry", "2s")]).await;
    let owner = Api::register(&app, "bisarjan").await;
    let album_id = album(&owner).await;
    let photo = big_photo();
    let path = create(&owner, album_id, photo.len(), "").await;
    send_chunks(&owner, &path, &photo, 0, 5 * 1024 * 1024 + 100 * 1024, 1024 * 1024).await;
    let cookie = owner.cookie.clone();
    let multipart = multipart_of(&db_url, &path).await.expect("a multipart upload");
    assert!(multipart_parts_left(&multipart) && !partial_objects(&s3).is_empty());
    tokio::time::sleep(Duration::from_millis(2300)).await;
    // The sweep runs at start: a restart finds the expired upload and removes its
    // multipart upload's parts and its waiting chunks.
    let data = stop(app).await;
    drop(data);
    let app = replica(&db_url, &s3, &[("upload-expiry", "2s")]).await;
    let gone = common::eventually(Duration::from_secs(10), || async {
        partial_objects(&s3).is_empty() && !multipart_parts_left(&multipart)
    })
    .await;
    assert!(gone, "left: {:?}", partial_objects(&s3));
    assert_eq!(
        offset_of(&Api { app: &app, cookie, user: serde_json::Value::Null }, &path).await.status,
        StatusCode::NOT_FOUND
    );
}

/// The bucket goes away while a phone is sending: a chunk and the last chunk are 503
/// and change nothing; once the bucket is back the same chunks go through, and the
/// photo is the file sent.
#[tokio::test]
async fn on_s3_an_outage_mid_upload_is_503_and_loses_nothing() {
    let root = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(root.path().join("outage")).expect("bucket");
    let port = common::free_port();
    let mut server = crate::media::start_s3s(root.path(), port);
    crate::media::wait_for_s3s(port).await;
    let endpoint = format!("http://127.0.0.1:{port}");
    let settings = [
        ("s3-bucket", "outage"),
        ("s3-endpoint", endpoint.as_str()),
        ("s3-path-style", "true"),
        ("s3-access-key-id", "pujo-test"),
        ("s3-secret-access-key", "pujo-test-secret"),
        ("s3-timeout", "2s"),
    ];
    let app = common::spawn_app_with(&settings).await;
    let owner = Api::register(&app, "ghat").await;
    let album_id = album(&owner).await;
    let photo = noisy(320, 300);
    let path = create(&owner, album_id, photo.len(), "").await;
    let (third, two_thirds) = (photo.len() / 3, 2 * photo.len() / 3);
    assert_eq!(chunk(&owner, &path, 0, &photo[..third]).await.status, StatusCode::NO_CONTENT);

    server.kill().expect("stop s3s-fs");
    server.wait().expect("stopped");
    let middle = chunk(&owner, &path, third, &photo[third..two_thirds]).await;
    assert_eq!(middle.status, StatusCode::SERVICE_UNAVAILABLE, "{}", middle.text());
    assert_eq!(offset_of(&owner, &path).await.header("upload-offset"), third.to_string());

    let mut server = crate::media::start_s3s(root.path(), port);
    crate::media::wait_for_s3s(port).await;
    let middle = chunk(&owner, &path, third, &photo[third..two_thirds]).await;
    assert_eq!(middle.status, StatusCode::NO_CONTENT, "{}", middle.text());

    // The last chunk arrives while the bucket is away: nothing to put it together from.
    server.kill().expect("stop s3s-fs");
    server.wait().expect("stopped");
    let last = chunk(&owner, &path, two_thirds, &photo[two_thirds..]).await;
    assert_eq!(last.status, StatusCode::SERVICE_UNAVAILABLE, "{}", last.text());
    let head = offset_of(&owner, &path).await;
    assert_eq!(head.header("upload-offset"), two_thirds.to_string(), "the last chunk is sent again");
    assert!(head.header("pujo-photo-id").is_empty());

    let mut server = crate::media::start_s3s(root.path(), port);
    crate::media::wait_for_s3s(port).await;
    let last = chunk(&owner, &path, two_thirds, &photo[two_thirds..]).await;
    let photo_id: i64 = last.header("pujo-photo-id").parse().unwrap_or(0);
    let original = owner.get(&format!("/media/{photo_id}/original")).await;
    server.kill().ok();
    server.wait().ok();
    assert_eq!(last.status, StatusCode::NO_CONTENT, "{}", last.text());
    assert_eq!(original.status, StatusCode::OK, "{}", original.text());
    assert_eq!(original.body.len(), photo.len());
    assert!(original.body[..] == photo[..], "the photo is the file sent, in order");
}

/// A replica whose claim lapsed in the middle of a chunk (its database calls stalled,
/// say) must not acknowledge anything once another replica took the upload over:
/// the second replica's bytes are the ones that count.
#[tokio::test]
async fn on_s3_a_writer_whose_claim_lapsed_acknowledges_nothing() {
    let db_url = common::db::create_postgres_database().await;
    let s3 = crate::media::s3_settings();
    let a = replica(&db_url, &s3, &[]).await;
    let b = replica(&db_url, &s3, &[]).await;
    let owner = Api::register(&a, "protima").await;
    let album_id = album(&owner).await;
    let photo = noisy(400, 300);
    let path = create(&owner, album_id, photo.len(), "").await;
    let first = 100 * 1024;
    assert_eq!(chunk(&owner, &path, 0, &photo[..first]).await.status, StatusCode::NO_CONTENT);

    // A takes the next chunk slowly...
    let mut slow = raw_patch(&a, &owner, &path, first, Some(photo.len() - first)).await;
    slow.write_all(&photo[first..first + 70_000]).await.expect("some bytes");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // ...until its claim lapses, and B takes the upload over and finishes it.
    let (client, connection) = tokio_postgres::connect(&db_url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let id = path.rsplit('/').next().expect("id");
    client
        .execute("UPDATE uploads SET claimed_until = now() - interval '1 second' WHERE id = $1", &[&id])
        .await
        .expect("the claim lapses");
    let on_b = Api { app: &b, cookie: owner.cookie.clone(), user: serde_json::Value::Null };
    let finished = chunk(&on_b, &path, first, &photo[first..]).await;
    assert_eq!(finished.status, StatusCode::NO_CONTENT, "{}", finished.text());
    let photo_id = finished.header("pujo-photo-id").to_owned();
    assert!(!photo_id.is_empty());

    // A's chunk ends: nothing of it is acknowledged, and the upload stays B's photo.
    slow.write_all(&photo[first + 70_000..]).await.expect("the rest");
    let answer = raw_answer(&mut slow).await;
    assert!(!answer.starts_with("http/1.1 2"), "the stale writer was answered {answer}");
    let head = offset_of(&owner, &path).await;
    assert_eq!(head.header("pujo-photo-id"), photo_id);
    assert_eq!(head.header("upload-offset"), photo.len().to_string());
    let original = owner.get(&format!("/media/{photo_id}/original")).await;
    assert!(original.body[..] == photo[..], "the photo is B's bytes, whole");
}

/// A phone sends the last bytes, then loses the connection before the request ends:
/// every byte is there, so the photo is made, and a HEAD names it. (Acknowledging
/// the whole length without a photo would leave the client nothing to send.)
#[tokio::test]
async fn a_last_chunk_cut_after_its_last_byte_still_makes_the_photo() {
    let app = common::spawn_app().await;
    let owner = Api::register(&app, "bodhon").await;
    let album_id = album(&owner).await;
    let photo = Jpeg { width: 700, height: 500, seed: 43, ..Jpeg::default() }.encode();
    let path = create(&owner, album_id, photo.len(), "").await;
    let mut stream = raw_patch(&app, &owner, &path, 0, None).await;
    stream.write_all(format!("{:x}\r\n", photo.len()).as_bytes()).await.expect("chunk size");
    stream.write_all(&photo).await.expect("every byte");
    stream.write_all(b"\r\n").await.expect("chunk end");
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(stream); // before the last, empty chunk that ends the body
    let named = common::eventually(Duration::from_secs(10), || {
        let (owner, path) = (&owner, &path);
        async move { !offset_of(owner, path).await.header("pujo-photo-id").is_empty() }
    })
    .await;
    assert!(named, "offset {}", offset_of(&owner, &path).await.header("upload-offset"));
    let photo_id = offset_of(&owner, &path).await.header("pujo-photo-id").to_owned();
    let original = owner.get(&format!("/media/{photo_id}/original")).await;
    assert!(original.body[..] == photo[..]);
}

#[tokio::test]
async fn one_persons_idle_uploads_hold_at_most_an_eighth_of_the_disk_budget() {
    // An eighth of 800,000 bytes: 100,000 per person.
    let app = common::spawn_app_with(&[("upload-temp-bytes", "800000")]).await;
    let hoarder = Api::register(&app, "hoarder").await;
    let album_id = album(&hoarder).await;
    create(&hoarder, album_id, 60_000, "").await;
    let metadata = format!("album_id {}", b64(&album_id.to_string()));
    let over =
        tus(&hoarder, "POST", "/api/v1/uploads", &[("upload-length", "60000"), ("upload-metadata", &metadata)], b"")
            .await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", over.text());
    // Everyone else still starts theirs.
    let other = Api::register(&app, "neighbour").await;
    let theirs = album(&other).await;
    create(&other, theirs, 60_000, "").await;
}

/// On S3 a chunk waits in memory or a temp file and the last one brings the whole file back for
/// the photo pipeline: that disk is reserved from the budget multipart uploads share
/// (`PUJO_UPLOAD_TEMP_BYTES`), so a crowd of both cannot fill it. While a slow
/// multipart upload holds most of it, a chunk is 503 and changes nothing; once the
/// space is back, the same chunk makes the photo.
#[tokio::test]
async fn on_s3_chunks_take_their_temp_disk_from_the_shared_budget() {
    let mut settings: Vec<(&'static str, String)> = crate::media::s3_settings();
    settings.push(("upload-temp-bytes", (8 * 1024 * 1024).to_string()));
    let settings: Vec<(&'static str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = common::spawn_app_with(&settings).await;
    let owner = Api::register(&app, "bhir").await;
    let album_id = album(&owner).await;
    let photo = noisy(600, 400);
    assert!(photo.len() > 300_000 && photo.len() < 1024 * 1024, "{} bytes", photo.len());
    let path = create(&owner, album_id, photo.len(), "").await;

    // A slow phone's multipart upload: 3.5 MiB sent, then nothing (it holds 7 of 8 MiB).
    let slow = common::HeldUpload::start(&app, &owner.cookie.clone().expect("session"), album_id).await;
    for _ in 0..14 {
        slow.send(vec![0xFF; 256 * 1024]).await;
    }
    let temp = app.data.path().join("tmp");
    // On disk less what the server's write buffer still holds (a quarter megabyte).
    let written = common::eventually(Duration::from_secs(10), || async {
        std::fs::read_dir(&temp)
            .map(|d| d.filter_map(Result::ok).any(|f| f.metadata().is_ok_and(|m| m.len() >= 3_400_000)))
            .unwrap_or(false)
    })
    .await;
    assert!(written, "the slow upload reached the disk");

    let refused = chunk(&owner, &path, 0, &photo).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.text());
    assert_eq!(offset_of(&owner, &path).await.header("upload-offset"), "0", "nothing was acknowledged");

    slow.abandon();
    let done = common::eventually(Duration::from_secs(10), || async {
        chunk(&owner, &path, 0, &photo).await.status == StatusCode::NO_CONTENT
    })
    .await;
    assert!(done, "the space came back and the same chunk went through");
    let photos = owner.get(&format!("/api/v1/albums/{album_id}/photos")).await.json();
    assert_eq!(photos["items"].as_array().expect("items").len(), 1);
}

/// A replica dies (`kill -9`) while a phone's chunk is arriving, so its claim is never
/// released. A claim holds only briefly while bytes arrive (it is renewed as they
/// do), so another replica takes the upload over within seconds, not after the
/// minutes a write to the bucket may need.
#[tokio::test]
async fn on_s3_a_replica_that_dies_mid_chunk_holds_the_upload_for_seconds_not_minutes() {
    let db_url = common::db::create_postgres_database().await;
    let s3 = crate::media::s3_settings();
    let b = replica(&db_url, &s3, &[]).await;
    let owner = Api::register(&b, "ghot").await;
    let album_id = album(&owner).await;
    let photo = noisy(400, 300);
    let path = create(&owner, album_id, photo.len(), "").await;

    let data = tempfile::tempdir().expect("dir");
    let flags: Vec<String> = s3.iter().flat_map(|(k, v)| [format!("--{k}"), v.clone()]).collect();
    let mut args: Vec<&str> = vec!["--database-url", &db_url];
    args.extend(flags.iter().map(String::as_str));
    let (mut a, a_addr, _) = common::spawn_binary(data.path(), &args).await;
    let mut stalled = raw_patch_to(a_addr, &owner, &path, 0, Some(photo.len())).await;
    stalled.write_all(&photo[..70_000]).await.expect("some bytes");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(chunk(&owner, &path, 0, &photo).await.status, StatusCode::LOCKED, "A holds it while receiving");
    a.kill().expect("kill -9");
    a.wait().expect("reaped");
    let died = std::time::Instant::now();

    let mut answer = chunk(&owner, &path, 0, &photo).await;
    while answer.status == StatusCode::LOCKED && died.elapsed() < Duration::from_secs(45) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        answer = chunk(&owner, &path, 0, &photo).await;
    }
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    assert!(died.elapsed() < Duration::from_secs(30), "held for {:?}", died.elapsed());
    assert!(!answer.header("pujo-photo-id").is_empty(), "the photo was made on B");
}
