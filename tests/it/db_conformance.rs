//! The database layer's contract, written once and run against SQLite and PostgreSQL.

use crate::common;

use std::time::Duration;

use common::db::{Backend, fresh};
use pujo::db::{Database, DbError, NewUser};

/// How many migrations each backend has (`migrations/*/V*.sql`).
const MIGRATIONS: u32 = 14;

per_backend!(Backend { sqlite: Sqlite, postgres: Postgres } [
    migrations_apply_once_and_record_their_version,
    usernames_and_emails_are_unique_without_regard_to_case,
    login_finds_a_user_by_username_or_email,
    bengali_emoji_and_sql_looking_text_round_trip_verbatim,
    sessions_slide_and_expire,
    sessions_end_after_their_absolute_lifetime_and_expired_ones_are_purged,
    ending_other_sessions_keeps_the_current_one,
]);

async fn open(backend: Backend) -> (Database, common::db::TestDb) {
    let t = fresh(backend, &[]).await;
    let db = Database::open(&t.config.db, &t.config.data_dir).await.expect("open");
    db.migrate().await.expect("migrate");
    (db, t)
}

fn person(name: &str, email: &str) -> NewUser {
    NewUser {
        username: name.to_owned(),
        email: email.to_owned(),
        display_name: String::new(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
    }
}

async fn migrations_apply_once_and_record_their_version(backend: Backend) {
    let (db, _t) = open(backend).await;
    db.check_schema().await.expect("schema current");
    let again = db.migrate().await.expect("second migrate");
    assert!(again.applied_now.is_empty(), "{again:?}");
    assert_eq!(again.version, MIGRATIONS);
    db.ping().await.expect("ping");
}

async fn usernames_and_emails_are_unique_without_regard_to_case(backend: Backend) {
    let (db, _t) = open(backend).await;
    let first = db.create_user(&person("Durga", "maa@pujo.example")).await.expect("first");
    assert!(first.id > 0);
    let same_name = db.create_user(&person("durga", "other@pujo.example")).await;
    assert!(matches!(same_name, Err(DbError::Conflict { field: "username" })), "{same_name:?}");
    let same_email = db.create_user(&person("lakshmi", "MAA@pujo.example")).await;
    assert!(matches!(same_email, Err(DbError::Conflict { field: "email" })), "{same_email:?}");
    // A failed insert leaves nothing behind.
    assert!(db.user_by_login("lakshmi").await.expect("lookup").is_none());
}

async fn login_finds_a_user_by_username_or_email(backend: Backend) {
    let (db, _t) = open(backend).await;
    let user = db.create_user(&person("Saraswati", "veena@pujo.example")).await.expect("create");
    for login in ["Saraswati", "saraswati", "VEENA@pujo.example"] {
        let (found, hash) = db.user_by_login(login).await.expect("lookup").expect("found");
        assert_eq!(found, user);
        assert!(hash.starts_with("$argon2id$"));
    }
    assert!(db.user_by_login("ganesha").await.expect("lookup").is_none());
    assert_eq!(db.user_by_id(user.id).await.expect("by id"), Some(user));
}

async fn bengali_emoji_and_sql_looking_text_round_trip_verbatim(backend: Backend) {
    let (db, _t) = open(backend).await;
    let texts = ["দুর্গা পূজা ২০২৬ 🙏🪔", "Robert'); DROP TABLE users;--", "a\u{0}b"];
    for (i, text) in texts.iter().enumerate() {
        let mut u = person(&format!("user{i}"), &format!("u{i}@pujo.example"));
        u.display_name = (*text).replace('\u{0}', "");
        let created = db.create_user(&u).await.expect("create");
        assert_eq!(created.display_name, u.display_name);
        let read = db.user_by_id(created.id).await.expect("read").expect("exists");
        assert_eq!(read.display_name, u.display_name);
    }
    assert!(db.user_by_login("user0").await.expect("users table still there").is_some());
}

async fn sessions_slide_and_expire(backend: Backend) {
    let (db, _t) = open(backend).await;
    let user = db.create_user(&person("kartik", "kartik@pujo.example")).await.expect("create");
    let (day, month) = (Duration::from_secs(24 * 3600), Duration::from_secs(30 * 24 * 3600));
    db.create_session(b"live-token-hash-0000000000000000", user.id, day, "test").await.expect("session");
    let found = db.session_user(b"live-token-hash-0000000000000000", day, month).await.expect("lookup");
    assert_eq!(found.map(|u| u.id), Some(user.id));
    db.create_session(b"dead-token-hash-0000000000000000", user.id, Duration::ZERO, "test").await.expect("session");
    assert!(db.session_user(b"dead-token-hash-0000000000000000", day, month).await.expect("lookup").is_none());
    assert!(db.session_user(b"never-issued-000000000000000000", day, month).await.expect("lookup").is_none());
    db.delete_session(b"live-token-hash-0000000000000000").await.expect("logout");
    assert!(db.session_user(b"live-token-hash-0000000000000000", day, month).await.expect("lookup").is_none());
}

async fn ending_other_sessions_keeps_the_current_one(backend: Backend) {
    let (db, _t) = open(backend).await;
    let user = db.create_user(&person("ganesh", "ganesh@pujo.example")).await.expect("create");
    let other = db.create_user(&person("asura", "asura@pujo.example")).await.expect("create");
    let (day, month) = (Duration::from_secs(3600), Duration::from_secs(30 * 24 * 3600));
    for token in [b"aaaa".as_slice(), b"bbbb", b"cccc"] {
        db.create_session(token, user.id, day, "").await.expect("session");
    }
    db.create_session(b"dddd", other.id, day, "").await.expect("session");
    let ended = db.delete_sessions_of(user.id, Some(b"bbbb")).await.expect("end others");
    assert_eq!(ended, 2);
    assert!(db.session_user(b"bbbb", day, month).await.expect("lookup").is_some());
    assert!(db.session_user(b"aaaa", day, month).await.expect("lookup").is_none());
    assert!(db.session_user(b"dddd", day, month).await.expect("lookup").is_some(), "another person's session stays");
}

#[tokio::test]
async fn postgres_replicas_migrating_at_once_take_turns() {
    let url = common::db::create_postgres_database().await;
    let t = fresh(Backend::Sqlite, &[("database-url", &url)]).await;
    let mut runs = Vec::new();
    for _ in 0..3 {
        let config = t.config.clone();
        runs.push(tokio::spawn(async move {
            let db = Database::open(&config.db, &config.data_dir).await.expect("open");
            db.migrate().await
        }));
    }
    let mut applied = 0;
    for run in runs {
        let migrated = run.await.expect("task").expect("every replica's migrate succeeds");
        assert_eq!(migrated.version, MIGRATIONS);
        applied += migrated.applied_now.len();
    }
    assert_eq!(applied, MIGRATIONS as usize, "each migration ran exactly once");
}

#[tokio::test]
async fn postgres_without_migrations_reports_the_schema_behind() {
    let url = common::db::create_postgres_database().await;
    let t = fresh(Backend::Sqlite, &[("database-url", &url)]).await;
    let db = Database::open(&t.config.db, &t.config.data_dir).await.expect("open");
    let behind = db.check_schema().await;
    assert!(matches!(behind, Err(DbError::SchemaBehind { applied: 0, known: MIGRATIONS })), "{behind:?}");
}

#[tokio::test]
async fn an_unreachable_postgres_is_unavailable_quickly() {
    let port = common::free_port();
    let url = format!("postgres://pujo@127.0.0.1:{port}/pujo");
    let t = fresh(Backend::Sqlite, &[("database-url", &url), ("db-connect-timeout", "500ms")]).await;
    let db = Database::open(&t.config.db, &t.config.data_dir).await.expect("the pool opens lazily");
    let started = std::time::Instant::now();
    let err = db.ping().await.expect_err("nothing listens there");
    assert!(matches!(err, DbError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

async fn sessions_end_after_their_absolute_lifetime_and_expired_ones_are_purged(backend: Backend) {
    let (db, _t) = open(backend).await;
    let user = db.create_user(&person("ganesh", "ganesh@pujo.example")).await.expect("create");
    let (day, month) = (Duration::from_secs(24 * 3600), Duration::from_secs(30 * 24 * 3600));
    db.create_session(b"old-token-hash-00000000000000000", user.id, day, "test").await.expect("session");
    assert!(db.session_user(b"old-token-hash-00000000000000000", day, month).await.expect("lookup").is_some());
    // Used a moment ago and sliding, but begun longer ago than the absolute lifetime
    // allows (here: any time at all): it ends, and is gone.
    assert!(db.session_user(b"old-token-hash-00000000000000000", day, Duration::ZERO).await.expect("lookup").is_none());
    assert!(db.session_user(b"old-token-hash-00000000000000000", day, month).await.expect("lookup").is_none());
    // Expired sessions nobody comes back with are purged; live ones stay.
    for i in 0..5u8 {
        let hash = [b'x', i].repeat(16);
        db.create_session(&hash, user.id, Duration::ZERO, "test").await.expect("expired session");
    }
    db.create_session(b"live-token-hash-0000000000000000", user.id, day, "test").await.expect("session");
    assert_eq!(db.purge_sessions(3).await.expect("purge"), 3, "a batch at a time");
    assert_eq!(db.purge_sessions(100).await.expect("purge"), 2);
    assert_eq!(db.purge_sessions(100).await.expect("purge"), 0);
    assert!(db.session_user(b"live-token-hash-0000000000000000", day, month).await.expect("lookup").is_some());
}
