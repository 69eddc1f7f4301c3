//! A festival night on Pujo: the visitors, what each kind does, and how often.
//!
//! Run by `scripts/bench/festival.sh`, which seeds the data this scenario expects and
//! starts everything it talks to. Each goose user is one visitor, of one of the kinds
//! below, in the ratio of `MIX` (or `FESTIVAL_MIX`). Latencies are measured here, per
//! request type, from sending the request to the last byte of its body, and only in the
//! steady window (after every visitor has arrived and settled); the summary is written
//! as JSON to `FESTIVAL_OUT`.
//!
//! Settings from the environment (festival.sh sets them):
//!   FESTIVAL_OUT          where the JSON summary goes
//!   FESTIVAL_MIX          e.g. "browser=76,participant=20,uploader=3,wall=1"
//!   FESTIVAL_SETTLE_FROM  seconds after start when measuring begins (the ramp + settling)
//!   FESTIVAL_SETTLE_UNTIL seconds after start when measuring ends
//!   FESTIVAL_USERS        accounts seeded with a session `festival<id in 35 digits>` (ids 1..=USERS;
//!                         album <id> belongs to user <id>)
//!   FESTIVAL_ALBUMS, FESTIVAL_PANDALS  how many were seeded (ids 1..=N, all public)
//!   FESTIVAL_PHOTOS_DIR   phone-like JPEGs (3-5 MB) the uploaders send, each made unique
//!   FESTIVAL_WALL_ALBUMS  the albums the live-wall screens watch (the first N uploaders')
//! and goose's own options on the command line (--host, --users, --increase-time, --run-time).
use goose::prelude::*;
use rand::Rng;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// jemalloc, as Pujo uses (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

// ------------------------------------------------------------------ the mix
/// Visitor kinds and their share of the visitors (weights; FESTIVAL_MIX overrides).
const MIX: [(&str, usize); 4] = [("browser", 80), ("participant", 18), ("uploader", 1), ("wall", 1)];
/// Seconds a browser or participant reads a page before the next (uniform in the range).
const PAGE_THINK: (u64, u64) = (2, 8);
/// Seconds between two photos flipped through in the lightbox.
const FLIP_THINK_MS: (u64, u64) = (500, 2000);
/// Photos a visitor opens from an album (each: its display image).
const PHOTOS_OPENED: usize = 10;
/// Photos an uploader sends in one go, and the seconds between two goes.
const UPLOAD_BATCH: (usize, usize) = (1, 5);
const UPLOADER_THINK: (u64, u64) = (60, 300);
/// How often an uploader arrives in the middle of a batch rather than of a think: about
/// a batch's share of the cycle (three photos take a few seconds, a think three minutes).
const ARRIVE_IN_BATCH: f64 = 0.05;
/// tus chunk size (a phone on a festival's network sends small chunks).
const CHUNK: usize = 1 << 20;
/// A live wall polls its album this often.
const WALL_POLL: u64 = 2;
/// What visitors search for: pandals' paras, alone or with a word from the captions.
const SEARCHES: &[&str] = &[
    "bagbazar", "kumartuli", "ahiritola", "shobhabazar", "college square", "santosh mitra", "md ali park",
    "suruchi", "ekdalia", "singhi park", "tridhara", "hindustan park", "deshapriya", "badamtala", "chetla",
    "naktala", "behala", "salt lake", "fd block", "lake town", "sreebhumi", "dum dum", "jodhpur park",
    "maddox", "ballygunge", "kalighat", "bhowanipore", "shyambazar", "hatibagan", "kasba", "jadavpur",
    "garia", "tollygunge", "howrah", "barasat", "chaltabagan", "jagat mukherjee", "baranagar", "sealdah",
    "rajdanga", "dhunuchi bagbazar", "aarti kumartuli", "sindoor ekdalia", "pratima suruchi", "dhak chetla",
];
const COMMENTS: &[&str] = &["Sundor!", "Darun pratima", "Ki bhir aaj!", "Asche bochor abar hobe", "Dhunuchi naach!"];

// ------------------------------------------------------------------ measuring
#[derive(Default)]
struct Stat {
    latencies_us: Vec<u32>,
    errors: BTreeMap<String, u64>,
}

struct Recorder {
    started: Instant,
    from: Duration,
    until: Duration,
    stats: Mutex<HashMap<&'static str, Stat>>,
}

fn recorder() -> &'static Recorder {
    static R: OnceLock<Recorder> = OnceLock::new();
    R.get_or_init(|| Recorder {
        started: Instant::now(),
        from: Duration::from_secs_f64(env_f64("FESTIVAL_SETTLE_FROM", 0.0)),
        until: Duration::from_secs_f64(env_f64("FESTIVAL_SETTLE_UNTIL", 1e9)),
        stats: Mutex::new(HashMap::new()),
    })
}

/// Counts one answer (error = None) or failure of request type `kind`, when inside the window.
fn record(kind: &'static str, began: Instant, error: Option<String>) {
    let r = recorder();
    let at = began.duration_since(r.started);
    if at < r.from || at >= r.until {
        return;
    }
    let us = u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX);
    let mut stats = r.stats.lock().expect("stats");
    let stat = stats.entry(kind).or_default();
    match error {
        None => stat.latencies_us.push(us),
        Some(e) => *stat.errors.entry(e).or_insert(0) += 1,
    }
}

/// Whether the run is over: past the window, visitors stop sending and stop thinking,
/// so goose, which lets each visitor finish what it is doing, ends at once.
fn over() -> bool {
    let r = recorder();
    r.started.elapsed() >= r.until
}

/// Sleeps like a person, but not past the end of the run.
async fn pause(d: Duration) {
    let r = recorder();
    let left = r.until.saturating_sub(r.started.elapsed());
    // After the end, a short pause still: goose keeps a visitor's loop going until it
    // stops it, and a visit that returns at once would spin.
    tokio::time::sleep(d.min(left).max(Duration::from_millis(50))).await;
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn write_summary() {
    let r = recorder();
    let window = r.until.saturating_sub(r.from).as_secs_f64();
    let mut stats = r.stats.lock().expect("stats");
    let mut kinds = serde_json::Map::new();
    for (kind, stat) in stats.iter_mut() {
        stat.latencies_us.sort_unstable();
        let ok = stat.latencies_us.len();
        let failed: u64 = stat.errors.values().sum();
        let pct = |p: f64| -> f64 {
            if ok == 0 {
                return f64::NAN;
            }
            let i = ((p / 100.0) * ok as f64).ceil() as usize;
            f64::from(stat.latencies_us[i.clamp(1, ok) - 1]) / 1000.0
        };
        kinds.insert(
            kind.to_string(),
            serde_json::json!({
                "ok": ok, "failed": failed, "errors": stat.errors,
                "rps": (ok as f64 + failed as f64) / window,
                "p50_ms": pct(50.0), "p95_ms": pct(95.0), "p99_ms": pct(99.0), "max_ms": pct(100.0),
            }),
        );
    }
    // Every request of the mix together.
    let mut all: Vec<u32> = stats.values().flat_map(|s| s.latencies_us.iter().copied()).collect();
    all.sort_unstable();
    let failed: u64 = stats.values().flat_map(|s| s.errors.values()).sum();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let i = ((p / 100.0) * all.len() as f64).ceil() as usize;
        f64::from(all[i.clamp(1, all.len()) - 1]) / 1000.0
    };
    let total = serde_json::json!({
        "ok": all.len(), "failed": failed, "rps": (all.len() as f64 + failed as f64) / window,
        "p50_ms": pct(50.0), "p95_ms": pct(95.0), "p99_ms": pct(99.0), "max_ms": pct(100.0),
    });
    let out = serde_json::json!({ "window_s": window, "all": total, "types": kinds });
    let path = std::env::var("FESTIVAL_OUT").unwrap_or_else(|_| "festival-step.json".into());
    std::fs::write(&path, serde_json::to_vec_pretty(&out).expect("json")).expect("writing FESTIVAL_OUT");
}

// ------------------------------------------------------------------ a visitor
/// Who this goose user is: an address (the load balancer puts it in X-Forwarded-For, as
/// the ALB does for people on phone networks) and, when logged in, a seeded session.
#[derive(Clone)]
struct Visitor {
    address: String,
    account: usize,
    cookie: Option<String>,
    wall_etag: Option<String>,
    wall_seen: Vec<i64>,
    /// Where the first visit starts: visitors arrive in the middle of their visit, so
    /// the steady window sees every page in its share from the start.
    first_page: Option<usize>,
}

fn visitor(user: &GooseUser) -> &Visitor {
    user.get_session_data_unchecked::<Visitor>()
}

async fn arrive(user: &mut GooseUser, logged_in: bool) -> TransactionResult {
    let n = user.weighted_users_index;
    let users = env_usize("FESTIVAL_USERS", 20_000);
    let account = 1 + n % users;
    let address = format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255);
    // The seeded session of this account (43 characters, as Pujo makes them).
    let cookie = logged_in.then(|| format!("pujo_session=festival{account:035}"));
    let first_page = Some(rand::rng().random_range(0..4));
    user.set_session_data(Visitor { address, account, cookie, wall_etag: None, wall_seen: Vec::new(), first_page });
    // Visitors arrive spread out, not all in the same second.
    let spread = Duration::from_millis(rand::rng().random_range(0..2000));
    pause(spread).await;
    Ok(())
}
async fn arrive_anonymous(user: &mut GooseUser) -> TransactionResult {
    arrive(user, false).await
}
async fn arrive_logged_in(user: &mut GooseUser) -> TransactionResult {
    arrive(user, true).await
}
/// Uploaders are the pandals' photographers: the accounts whose albums (1..=walls) the
/// live walls show, so the walls have new photos to poll for.
async fn arrive_uploader(user: &mut GooseUser) -> TransactionResult {
    arrive(user, true).await?;
    let account = 1 + user.weighted_users_index % env_usize("FESTIVAL_WALL_ALBUMS", 10).max(1);
    let v = user.get_session_data_unchecked_mut::<Visitor>();
    v.account = account;
    v.cookie = Some(format!("pujo_session=festival{account:035}"));
    Ok(())
}

/// The outcome of one request: its status and body, after it was recorded.
struct Answer {
    status: u16,
    etag: Option<String>,
    location: Option<String>,
    photo_id: Option<String>,
    body: bytes::Bytes,
}

/// Sends a request of type `kind`; any status in `ok` counts as success, anything else
/// (or no answer) as an error of that type. Reads the whole body.
async fn send(
    user: &mut GooseUser,
    kind: &'static str,
    method: GooseMethod,
    path: &str,
    ok: &[u16],
    extra: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Result<Option<Answer>, Box<TransactionError>> {
    if over() {
        return Ok(None);
    }
    let v = visitor(user);
    let mut builder = user.get_request_builder(&method, path)?.header("x-forwarded-for", v.address.clone());
    if let Some(cookie) = &v.cookie {
        builder = builder.header("cookie", cookie.clone());
    }
    let builder = extra(builder);
    let began = Instant::now();
    let request = GooseRequest::builder().method(method).path(path).name(kind).set_request_builder(builder).build();
    let mut goose = user.request(request).await?;
    let response = match goose.response {
        Ok(response) => response,
        Err(e) => {
            let what = if e.is_timeout() { "timeout" } else if e.is_connect() { "connect" } else { "transport" };
            record(kind, began, Some(what.into()));
            return Ok(None);
        }
    };
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (etag, location, photo_id) = (header("etag"), header("location"), header("pujo-photo-id"));
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(_) => {
            record(kind, began, Some("body cut".into()));
            return Ok(None);
        }
    };
    if ok.contains(&status) {
        if !goose.request.success {
            user.set_success(&mut goose.request)?;
        }
        record(kind, began, None);
    } else {
        if goose.request.success {
            // Goose took it for a success (2xx), but not the one this request expects.
            let _ = user.set_failure("unexpected status", &mut goose.request, None, None);
        }
        record(kind, began, Some(status.to_string()));
    }
    Ok(Some(Answer { status, etag, location, photo_id, body }))
}

async fn get(user: &mut GooseUser, kind: &'static str, path: &str) -> Result<Option<Answer>, Box<TransactionError>> {
    send(user, kind, GooseMethod::Get, path, &[200, 304], |b| b).await
}

fn photo_ids(answer: &Option<Answer>) -> Vec<i64> {
    let Some(a) = answer else { return Vec::new() };
    let Ok(list) = serde_json::from_slice::<serde_json::Value>(&a.body) else { return Vec::new() };
    list["items"].as_array().map(|items| items.iter().filter_map(|p| p["id"].as_i64()).collect()).unwrap_or_default()
}

fn pick(range: (u64, u64)) -> u64 {
    rand::rng().random_range(range.0..=range.1)
}

// ------------------------------------------------------------------ pages
async fn home(user: &mut GooseUser) -> TransactionResult {
    get(user, "GET / (the site)", "/").await?;
    get(user, "GET /api/v1/photos (feed)", "/api/v1/photos?limit=20").await?;
    Ok(())
}

/// An album page: the album, its photos, their thumbnails; then the visitor flips
/// through them in the lightbox (display images). Returns the photos' ids.
async fn album(user: &mut GooseUser) -> Result<Vec<i64>, Box<TransactionError>> {
    let albums = env_usize("FESTIVAL_ALBUMS", 100_000) as u64;
    // A festival is top-heavy: half the visits go to the 1 % most popular albums.
    let id = if rand::rng().random_bool(0.5) { pick((1, (albums / 100).max(1))) } else { pick((1, albums)) };
    get(user, "GET /api/v1/albums/{id}", &format!("/api/v1/albums/{id}")).await?;
    let list = get(user, "GET /api/v1/albums/{id}/photos", &format!("/api/v1/albums/{id}/photos?limit=20")).await?;
    let ids = photo_ids(&list);
    for photo in ids.iter().take(PHOTOS_OPENED) {
        send(user, "GET /media/{id}/thumb", GooseMethod::Get, &format!("/media/{photo}/thumb"), &[200, 304], |b| {
            b.header("accept", "image/avif,image/webp,*/*")
        })
        .await?;
    }
    Ok(ids)
}

async fn lightbox(user: &mut GooseUser, ids: &[i64]) -> TransactionResult {
    for photo in ids.iter().take(PHOTOS_OPENED) {
        send(user, "GET /media/{id}/display", GooseMethod::Get, &format!("/media/{photo}/display"), &[200, 304], |b| {
            b.header("accept", "image/avif,image/webp,*/*")
        })
        .await?;
        pause(Duration::from_millis(pick(FLIP_THINK_MS))).await;
    }
    Ok(())
}

async fn pandal(user: &mut GooseUser) -> TransactionResult {
    let id = pick((1, env_usize("FESTIVAL_PANDALS", 2_000) as u64));
    get(user, "GET /api/v1/pandals/{id}", &format!("/api/v1/pandals/{id}")).await?;
    Ok(())
}

async fn search(user: &mut GooseUser) -> TransactionResult {
    let q = SEARCHES[rand::rng().random_range(0..SEARCHES.len())].replace(' ', "+");
    get(user, "GET /api/v1/search", &format!("/api/v1/search?q={q}")).await?;
    Ok(())
}

async fn think(range: (u64, u64)) {
    pause(Duration::from_secs(pick(range))).await;
}

/// The page a visit starts at: 0 on every visit but the first.
fn start_page(user: &mut GooseUser) -> usize {
    user.get_session_data_unchecked_mut::<Visitor>().first_page.take().unwrap_or(0)
}

/// A browser's visit: home, an album and ten of its photos, a pandal, a search.
async fn browser_visit(user: &mut GooseUser) -> TransactionResult {
    let start = start_page(user);
    if start == 0 {
        home(user).await?;
        think(PAGE_THINK).await;
    }
    if start <= 1 {
        let ids = album(user).await?;
        think(PAGE_THINK).await;
        lightbox(user, &ids).await?;
        think(PAGE_THINK).await;
    }
    if start <= 2 {
        pandal(user).await?;
        think(PAGE_THINK).await;
    }
    search(user).await?;
    think(PAGE_THINK).await;
    Ok(())
}

/// A participant's visit: a browser's, with likes and a comment on what they saw.
async fn participant_visit(user: &mut GooseUser) -> TransactionResult {
    let start = start_page(user);
    if start >= 2 {
        // Arrived mid-visit: the rest of it.
        if start == 2 {
            pandal(user).await?;
            think(PAGE_THINK).await;
        }
        search(user).await?;
        think(PAGE_THINK).await;
        return Ok(());
    }
    if start == 0 {
        home(user).await?;
        think(PAGE_THINK).await;
    }
    let ids = album(user).await?;
    think(PAGE_THINK).await;
    lightbox(user, &ids).await?;
    let origin = user.base_url.as_str().trim_end_matches('/').to_owned();
    let liked: Vec<i64> = ids.iter().copied().filter(|_| rand::rng().random_bool(0.3)).collect();
    for photo in liked {
        let o = origin.clone();
        send(user, "PUT /api/v1/photos/{id}/like", GooseMethod::Put, &format!("/api/v1/photos/{photo}/like"), &[200], |b| {
            b.header("origin", o)
        })
        .await?;
    }
    if let Some(photo) = ids.first() {
        let body = serde_json::json!({ "body": COMMENTS[rand::rng().random_range(0..COMMENTS.len())] }).to_string();
        send(
            user,
            "POST /api/v1/photos/{id}/comments",
            GooseMethod::Post,
            &format!("/api/v1/photos/{photo}/comments"),
            &[201],
            |b| b.header("origin", origin.clone()).header("content-type", "application/json").body(body),
        )
        .await?;
    }
    think(PAGE_THINK).await;
    pandal(user).await?;
    think(PAGE_THINK).await;
    search(user).await?;
    think(PAGE_THINK).await;
    Ok(())
}

/// The phone photos the uploaders send, read once.
fn photos() -> &'static [Vec<u8>] {
    static P: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    P.get_or_init(|| {
        let dir = std::env::var("FESTIVAL_PHOTOS_DIR").unwrap_or_else(|_| "photos".into());
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("FESTIVAL_PHOTOS_DIR {dir}: {e}"))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
            .collect();
        files.sort();
        let photos: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).expect("photo")).collect();
        assert!(!photos.is_empty(), "no .jpg in FESTIVAL_PHOTOS_DIR {dir}");
        photos
    })
}

/// A photo no one sent before: a base photo with a random JPEG comment after its start
/// marker (the pixels, and so the server's work, stay the same; the hash does not).
fn unique_photo() -> Vec<u8> {
    let base = &photos()[rand::rng().random_range(0..photos().len())];
    let mut noise = [0u8; 16];
    rand::rng().fill(&mut noise);
    let mut out = Vec::with_capacity(base.len() + 20);
    out.extend_from_slice(&base[..2]);
    out.extend_from_slice(&[0xff, 0xfe, 0x00, 18]);
    out.extend_from_slice(&noise);
    out.extend_from_slice(&base[2..]);
    out
}

/// One to five photos into the uploader's own album through tus: create, then 1 MiB
/// chunks; the last chunk's answer comes once the photo is processed.
async fn upload_batch(user: &mut GooseUser) -> TransactionResult {
    use base64::Engine as _;
    let arriving = user.get_session_data_unchecked_mut::<Visitor>().first_page.take().is_some();
    if arriving && !rand::rng().random_bool(ARRIVE_IN_BATCH) {
        // Arrived part-way through the think between two batches: what is left of one,
        // so that uploads reach the steady window at the mix's rate (waiting a whole
        // think first left most uploaders silent for the window's length).
        let left = rand::rng().random_range(0..=pick(UPLOADER_THINK) * 1000);
        pause(Duration::from_millis(left)).await;
    }
    let album = visitor(user).account;
    let origin = user.base_url.as_str().trim_end_matches('/').to_owned();
    let count = rand::rng().random_range(UPLOAD_BATCH.0..=UPLOAD_BATCH.1);
    for n in 0..count {
        let photo = unique_photo();
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let meta = format!("album_id {},filename {}", b64(&album.to_string()), b64(&format!("IMG_{n:04}.jpg")));
        let (o, len) = (origin.clone(), photo.len());
        let Some(created) = send(user, "POST /api/v1/uploads (tus create)", GooseMethod::Post, "/api/v1/uploads", &[201], |b| {
            b.header("origin", o).header("tus-resumable", "1.0.0").header("upload-length", len).header("upload-metadata", meta)
        })
        .await?
        else {
            return Ok(());
        };
        let Some(location) = created.location.filter(|_| created.status == 201) else { return Ok(()) };
        let path = location.strip_prefix(origin.as_str()).unwrap_or(&location).to_owned();
        let mut at = 0;
        while at < photo.len() {
            let end = (at + CHUNK).min(photo.len());
            let kind = if end == photo.len() {
                "PATCH /api/v1/uploads/{id} (last chunk: the photo processed)"
            } else {
                "PATCH /api/v1/uploads/{id} (1 MiB chunk)"
            };
            let (o, chunk) = (origin.clone(), photo[at..end].to_vec());
            let answer = send(user, kind, GooseMethod::Patch, &path, &[204], |b| {
                b.header("origin", o)
                    .header("tus-resumable", "1.0.0")
                    .header("upload-offset", at)
                    .header("content-type", "application/offset+octet-stream")
                    .body(chunk)
            })
            .await?;
            match answer {
                Some(a) if a.status == 204 => {
                    if end == photo.len() && a.photo_id.is_none() {
                        record("PATCH /api/v1/uploads/{id} (last chunk: the photo processed)", Instant::now(), Some("no Pujo-Photo-Id".into()));
                    }
                    at = end;
                }
                _ => return Ok(()),
            }
        }
        pause(Duration::from_millis(pick((1000, 3000)))).await;
    }
    // Then they look at their album, as the app shows it after uploading.
    get(user, "GET /api/v1/albums/{id}/photos", &format!("/api/v1/albums/{album}/photos?limit=20")).await?;
    think(UPLOADER_THINK).await;
    Ok(())
}

/// A screen at a pandal showing the newest photos of its album: polls every two seconds
/// (with the ETag it holds), and shows each new photo's display image.
async fn wall_poll(user: &mut GooseUser) -> TransactionResult {
    let walls = env_usize("FESTIVAL_WALL_ALBUMS", 10).max(1);
    let album = 1 + user.weighted_users_index % walls;
    let etag = user.get_session_data_unchecked::<Visitor>().wall_etag.clone();
    let path = format!("/api/v1/albums/{album}/photos?limit=24");
    let answer = send(user, "GET /api/v1/albums/{id}/photos (live wall poll)", GooseMethod::Get, &path, &[200, 304], |b| match etag {
        Some(e) => b.header("if-none-match", e),
        None => b,
    })
    .await?;
    if let Some(a) = &answer
        && a.status == 200
    {
        let ids = photo_ids(&answer);
        let seen = user.get_session_data_unchecked::<Visitor>().wall_seen.clone();
        let fresh: Vec<i64> = ids.iter().copied().filter(|id| !seen.contains(id)).take(if seen.is_empty() { 1 } else { 24 }).collect();
        for photo in &fresh {
            send(user, "GET /media/{id}/display", GooseMethod::Get, &format!("/media/{photo}/display"), &[200, 304], |b| {
                b.header("accept", "image/webp,*/*")
            })
            .await?;
        }
        let v = user.get_session_data_unchecked_mut::<Visitor>();
        v.wall_etag = a.etag.clone();
        v.wall_seen = ids;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), GooseError> {
    recorder(); // the clock starts now
    let mut mix: Vec<(String, usize)> = MIX.iter().map(|(k, w)| (k.to_string(), *w)).collect();
    if let Ok(spec) = std::env::var("FESTIVAL_MIX") {
        for part in spec.split(',').filter(|p| !p.is_empty()) {
            let (kind, weight) = part.split_once('=').unwrap_or_else(|| panic!("FESTIVAL_MIX: {part:?} is not kind=weight"));
            let weight: usize = weight.parse().unwrap_or_else(|_| panic!("FESTIVAL_MIX: {part:?}: weight is not a number"));
            let slot = mix.iter_mut().find(|(k, _)| k == kind).unwrap_or_else(|| panic!("FESTIVAL_MIX: no visitor kind {kind:?}"));
            slot.1 = weight;
        }
    }
    let weight = |kind: &str| mix.iter().find(|(k, _)| k == kind).map_or(0, |(_, w)| *w);
    // Random: a small run gets the mix's ratios too (round robin would give the first
    // users one of each kind).
    let mut attack = GooseAttack::initialize()?.set_scheduler(GooseScheduler::Random);
    if weight("uploader") > 0 {
        photos(); // fail now, not in the middle of the run
    }
    // Each visitor type is a scenario; goose's own wait time is not used (the think times
    // are inside each visit, where a person's are).
    let no_wait = Duration::from_millis(1);
    let kinds: [(&str, Scenario); 4] = [
        (
            "browser",
            scenario!("browser")
                .set_wait_time(no_wait, no_wait)?
                .register_transaction(transaction!(arrive_anonymous).set_on_start())
                .register_transaction(transaction!(browser_visit)),
        ),
        (
            "participant",
            scenario!("participant")
                .set_wait_time(no_wait, no_wait)?
                .register_transaction(transaction!(arrive_logged_in).set_on_start())
                .register_transaction(transaction!(participant_visit)),
        ),
        (
            "uploader",
            scenario!("uploader")
                .set_wait_time(no_wait, no_wait)?
                .register_transaction(transaction!(arrive_uploader).set_on_start())
                .register_transaction(transaction!(upload_batch)),
        ),
        (
            "wall",
            scenario!("wall")
                .set_wait_time(Duration::from_secs(WALL_POLL), Duration::from_secs(WALL_POLL))?
                .register_transaction(transaction!(arrive_anonymous).set_on_start())
                .register_transaction(transaction!(wall_poll)),
        ),
    ];
    for (kind, scenario) in kinds {
        let w = weight(kind);
        if w > 0 {
            attack = attack.register_scenario(scenario.set_weight(w)?);
        }
    }
    attack.execute().await?;
    write_summary();
    Ok(())
}
