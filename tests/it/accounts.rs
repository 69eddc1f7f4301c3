//! Accounts and sessions through the HTTP API, on SQLite and on PostgreSQL.

use crate::common;

use bytes::Bytes;
use common::db::{Backend, spawn_app_on};
use common::{Answer, TestApp, get, send};
use http::StatusCode;

per_backend!(Backend { sqlite: Sqlite, postgres: Postgres } [
    register_log_out_and_log_in_again,
    duplicates_are_409_naming_the_field,
    bad_bodies_are_refused_with_stable_codes,
    wrong_credentials_get_the_same_answer_whether_or_not_the_account_exists,
    cross_site_writes_are_refused,
]);

async fn post_json(app: &TestApp, path: &str, body: &str, extra: &[(&str, &str)]) -> Answer {
    let mut headers = vec![("content-type", "application/json")];
    headers.extend_from_slice(extra);
    send("POST", &app.url(path), &headers, Bytes::from(body.to_owned())).await
}

/// The `name=value` part of the session cookie a response sets.
fn session_cookie(answer: &Answer) -> String {
    let set = answer.header("set-cookie");
    set.split(';').next().unwrap_or("").to_owned()
}

async fn register(app: &TestApp, username: &str, email: &str) -> Answer {
    let body = format!(r#"{{"username":"{username}","email":"{email}","password":"shiuli-phool-2026"}}"#);
    register_json(app, &body, &[]).await
}

/// `POST /api/v1/auth/register` with `body` and the proof of work it needs.
async fn register_json(app: &TestApp, body: &str, extra: &[(&str, &str)]) -> Answer {
    let proof = common::proof(app, "register").await;
    let mut headers = vec![("x-pujo-proof", proof.as_str())];
    headers.extend_from_slice(extra);
    post_json(app, "/api/v1/auth/register", body, &headers).await
}

async fn register_log_out_and_log_in_again(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let created = register(&app, "Kumartuli", "idols@pujo.example").await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let user = created.json();
    assert_eq!(user["username"], "Kumartuli");
    assert_eq!(user["email"], "idols@pujo.example");
    assert!(user.get("password_hash").is_none());
    let set_cookie = created.header("set-cookie").to_owned();
    assert!(set_cookie.starts_with("pujo_session="), "plain HTTP on loopback: {set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=86400"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = session_cookie(&created);

    let me = get(&app.url("/api/v1/me"), &[("cookie", &cookie)]).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["id"], user["id"]);

    let out = post_json(&app, "/api/v1/auth/logout", "", &[("cookie", &cookie)]).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    let after = get(&app.url("/api/v1/me"), &[("cookie", &cookie)]).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.json()["error"]["code"], "unauthorized");

    for login in ["kumartuli", "IDOLS@pujo.example"] {
        let body = format!(r#"{{"login":"{login}","password":"shiuli-phool-2026"}}"#);
        let back = post_json(&app, "/api/v1/auth/login", &body, &[]).await;
        assert_eq!(back.status, StatusCode::OK, "{}", back.text());
        let again = get(&app.url("/api/v1/me"), &[("cookie", &session_cookie(&back))]).await;
        assert_eq!(again.json()["username"], "Kumartuli");
    }
}

async fn duplicates_are_409_naming_the_field(backend: Backend) {
    let app = spawn_app_on(backend).await;
    assert_eq!(register(&app, "bagbazar", "b@pujo.example").await.status, StatusCode::CREATED);
    let name = register(&app, "BagBazar", "other@pujo.example").await;
    assert_eq!(name.status, StatusCode::CONFLICT);
    assert_eq!(name.json()["error"]["code"], "conflict");
    assert!(name.json()["error"]["fields"]["username"].is_string());
    let email = register(&app, "someone", "B@pujo.example").await;
    assert_eq!(email.status, StatusCode::CONFLICT);
    assert!(email.json()["error"]["fields"]["email"].is_string());
}

async fn bad_bodies_are_refused_with_stable_codes(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let cases: [(&str, StatusCode, &str); 5] = [
        (r#"{"username":"ab","email":"nope","password":"short"}"#, StatusCode::UNPROCESSABLE_ENTITY, "validation"),
        (
            r#"{"username":"okname","email":"a@b.org","password":"long enough pw","admin":true}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            r#"{"username":5,"email":"a@b.org","password":"long enough pw"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (r#"{"username":"okname""#, StatusCode::UNPROCESSABLE_ENTITY, "validation"),
        (r#"[]"#, StatusCode::UNPROCESSABLE_ENTITY, "validation"),
    ];
    for (body, status, code) in cases {
        let r = register_json(&app, body, &[]).await;
        assert_eq!(r.status, status, "{body}: {}", r.text());
        assert_eq!(r.json()["error"]["code"], code, "{body}");
    }
    let fields = register_json(&app, cases[0].0, &[]).await.json();
    for field in ["username", "email", "password"] {
        assert!(fields["error"]["fields"][field].is_string(), "{fields}");
    }
    let unknown = register_json(&app, cases[1].0, &[]).await.json();
    assert!(unknown["error"]["fields"]["admin"].is_string(), "{unknown}");
    let huge = format!(r#"{{"username":"x","email":"x@y.org","password":"{}"}}"#, "p".repeat(10_000));
    let big = register_json(&app, &huge, &[]).await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    let proof = common::proof(&app, "register").await;
    let headers = [("content-type", "text/plain"), ("x-pujo-proof", proof.as_str())];
    let text = send("POST", &app.url("/api/v1/auth/register"), &headers, Bytes::from("x")).await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Nothing was created by any of them.
    let login = post_json(&app, "/api/v1/auth/login", r#"{"login":"okname","password":"long enough pw"}"#, &[]).await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
}

async fn wrong_credentials_get_the_same_answer_whether_or_not_the_account_exists(backend: Backend) {
    let app = spawn_app_on(backend).await;
    register(&app, "ahiritola", "a@pujo.example").await;
    let wrong_pw =
        post_json(&app, "/api/v1/auth/login", r#"{"login":"ahiritola","password":"not the password"}"#, &[]).await;
    let nobody =
        post_json(&app, "/api/v1/auth/login", r#"{"login":"nobody-here","password":"not the password"}"#, &[]).await;
    assert_eq!(wrong_pw.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_pw.body, nobody.body);
    assert!(wrong_pw.headers.get("set-cookie").is_none());
}

async fn cross_site_writes_are_refused(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let body = r#"{"username":"santosh","email":"s@pujo.example","password":"shiuli-phool-2026"}"#;
    let evil = register_json(&app, body, &[("origin", "https://evil.example")]).await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);
    assert_eq!(evil.json()["error"]["code"], "csrf");
    let fetch = register_json(&app, body, &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(fetch.status, StatusCode::FORBIDDEN);
    let same_origin = format!("http://{}", app.addr);
    let ok = register_json(&app, body, &[("origin", &same_origin), ("sec-fetch-site", "same-origin")]).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text());
}

/// Making an account costs a proof of work, as becoming a guest does, each at its own
/// cost: none, a malformed one, or one used before is 428 before the body is read,
/// and no account is made.
#[tokio::test]
async fn a_registration_needs_a_fresh_proof_of_work() {
    let app = common::spawn_app_with(&[("register-proof-bits", "12"), ("guest-proof-bits", "4")]).await;
    let challenge = get(&app.url("/api/v1/proof?for=register"), &[]).await.json();
    assert_eq!(challenge["bits"], 12);
    assert_eq!(challenge["algorithm"], "SHA-256");
    assert_eq!(get(&app.url("/api/v1/proof"), &[]).await.json()["bits"], 4, "a guest's, by default");
    assert_eq!(get(&app.url("/api/v1/proof?for=admin"), &[]).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let body =
        |name: &str| format!(r#"{{"username":"{name}","email":"{name}@pujo.example","password":"shiuli-phool-2026"}}"#);
    let without = post_json(&app, "/api/v1/auth/register", &body("bagbazar"), &[]).await;
    assert_eq!(without.status, StatusCode::PRECONDITION_REQUIRED, "{}", without.text());
    assert_eq!(without.json()["error"]["code"], "proof_required");
    let proof = common::solve_proof(&challenge);
    // The solver takes the first number that holds: every one before it has too few
    // zero bits.
    let (salt, number) = proof.rsplit_once(':').expect("salt:number");
    let number: u64 = number.parse().expect("a number");
    let weak = number.checked_sub(1).map(|n| format!("{salt}:{n}"));
    for bad in ["nonsense", "1:2"].into_iter().map(str::to_owned).chain(weak) {
        let refused = post_json(&app, "/api/v1/auth/register", &body("bagbazar"), &[("x-pujo-proof", &bad)]).await;
        assert_eq!(refused.status, StatusCode::PRECONDITION_REQUIRED, "{bad}");
    }
    let made = post_json(&app, "/api/v1/auth/register", &body("bagbazar"), &[("x-pujo-proof", &proof)]).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    // A proof is taken once: the same work does not make a second account.
    let again = post_json(&app, "/api/v1/auth/register", &body("kumartuli"), &[("x-pujo-proof", &proof)]).await;
    assert_eq!(again.status, StatusCode::PRECONDITION_REQUIRED, "{}", again.text());
    let login = r#"{"login":"kumartuli","password":"shiuli-phool-2026"}"#;
    assert_eq!(post_json(&app, "/api/v1/auth/login", login, &[]).await.status, StatusCode::UNAUTHORIZED);

    // An operator may turn it off.
    let free = common::spawn_app_with(&[("register-proof-bits", "0")]).await;
    let junk = post_json(&free, "/api/v1/auth/register", &body("sovabazar"), &[("x-pujo-proof", "junk")]).await;
    assert_eq!(junk.status, StatusCode::UNPROCESSABLE_ENTITY, "a malformed header is still refused");
    assert_eq!(post_json(&free, "/api/v1/auth/register", &body("sovabazar"), &[]).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id() {
    let app = spawn_app_on(Backend::Sqlite).await;
    register(&app, "chorbagan", "c@pujo.example").await;
    let config =
        pujo::config::Config::from_sources(&[("data-dir", app.data.path().display().to_string())], std::iter::empty())
            .expect("config");
    let db = pujo::db::Database::open(&config.db, &config.data_dir).await.expect("open");
    let (_, hash) = db.user_by_login("chorbagan").await.expect("lookup").expect("exists");
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
}
