//! `pujo admin` and `pujo audit export`: the few things done from a shell rather than
//! the site (the first admin has nobody to grant them the role), each recorded in the
//! audit log.

use std::io::Write;
use std::process::ExitCode;

use crate::api::pandals::check_pandal;
use crate::api::views::Check;
use crate::cli::{AdminAction, AuditAction};
use crate::command::Failure;
use crate::config::Config;
use crate::db::{Database, NewPandal, Role};

pub fn run(config: &Config, action: &AdminAction) -> ExitCode {
    let runtime = match crate::command::runtime(false) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match runtime.block_on(act(config, action)) {
        Ok(done) => {
            println!("{done}");
            ExitCode::SUCCESS
        }
        Err(failure) => failure.report("admin"),
    }
}

/// `pujo audit export`: every event after `--after`, oldest first, as JSON lines.
pub fn run_audit(config: &Config, action: &AuditAction) -> ExitCode {
    let AuditAction::Export(export) = action;
    let runtime = match crate::command::runtime(false) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let outcome = runtime.block_on(async {
        let db = Database::open(&config.db, &config.data_dir).await?;
        db.check_schema().await?;
        let mut after = export.after;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        loop {
            let events = db.audit_after(after, 1000).await?;
            let Some(last) = events.last().map(|e| e.id) else { break };
            for e in events {
                let line = serde_json::json!({
                    "id": e.id,
                    "at": crate::api::views::rfc3339(e.at),
                    "actor": {"kind": e.actor_kind, "id": e.actor_id, "name": e.actor_name},
                    "action": e.action,
                    "object": {"kind": e.object_kind, "id": e.object_id},
                    "client": e.client,
                    "request_id": e.request_id,
                });
                writeln!(out, "{line}").map_err(Failure::failed)?;
            }
            after = last;
        }
        out.flush().map_err(Failure::failed)
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("audit export"),
    }
}

async fn act(config: &Config, action: &AdminAction) -> Result<String, Failure> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| Failure::Failed(format!("data folder: {e}")))?;
    let db = Database::open(&config.db, &config.data_dir).await?;
    if db.is_embedded() {
        db.migrate().await?;
    } else {
        db.check_schema().await?;
    }
    match action {
        AdminAction::GrantAdmin(a) => set_role(config, &db, &a.username, Role::Admin).await,
        AdminAction::RevokeAdmin(a) => set_role(config, &db, &a.username, Role::User).await,
        AdminAction::CreatePandal(p) => {
            let mut check = Check::default();
            check_pandal(&mut check, Some(&p.name), Some(&p.para), Some(&p.city), Some(p.year), p.lat, p.lon);
            if let Some((field, problem)) = check.problems().iter().next() {
                return Err(Failure::Usage(format!("--{field}: {problem}")));
            }
            let new = NewPandal {
                name: p.name.trim().to_owned(),
                para: p.para.trim().to_owned(),
                city: p.city.trim().to_owned(),
                year: p.year,
                lat: p.lat,
                lon: p.lon,
                created_by: None,
            };
            let pandal = db.create_pandal(&new).await.map_err(|e| match e {
                crate::db::DbError::Conflict { .. } => {
                    Failure::Usage(format!("{} in {} {} already exists", new.name, new.city, new.year))
                }
                other => other.into(),
            })?;
            // Running servers drop the lists they cached (PostgreSQL; with SQLite the
            // server's own cache expires within PUJO_CACHE_LOCAL_TTL).
            db.announce(&crate::cache::bus::encode_tags(&[crate::cache::Tag::Lists])).await?;
            record(&db, "pandal.created", ("pandal", pandal.id.to_string())).await;
            Ok(format!("created pandal {}: {}, {} {}", pandal.id, pandal.name, pandal.city, pandal.year))
        }
    }
}

/// An action from the command line, in the audit log, once it has taken effect (a
/// failure to record it is said, and does not undo it).
async fn record(db: &Database, action: &'static str, object: (&'static str, String)) {
    let event = crate::db::NewAuditEvent {
        actor: crate::db::Actor::Cli,
        action,
        object_kind: object.0,
        object_id: object.1,
        client: String::new(),
        request_id: String::new(),
    };
    if let Err(e) = db.record_audit(&event).await {
        eprintln!("pujo admin: done, but the audit log did not take it: {e}");
    }
}

async fn set_role(config: &Config, db: &Database, username: &str, role: Role) -> Result<String, Failure> {
    if db.set_role(username, role).await? {
        if let Some(user) = db.user_by_username(username).await? {
            // Sessions carry the role; comments show who may delete them. PostgreSQL
            // tells every replica through the bus. A SQLite server has no bus this
            // process can reach, so its sessions' Redis copies (which would carry the
            // old role for up to 15 minutes) are dropped here.
            let tags = [crate::cache::Tag::User(user.id), crate::cache::Tag::Global];
            db.announce(&crate::cache::bus::encode_tags(&tags)).await?;
            if db.is_embedded() && config.cache.redis.is_some() {
                let metrics = crate::metrics::Metrics::new(crate::util::VERSION, crate::util::GIT_SHA);
                // A one-off process opens a new connection: give it longer than a
                // request's Redis budget.
                let mut settings = config.cache.clone();
                if let Some(redis) = &mut settings.redis {
                    redis.timeout = redis.timeout.max(std::time::Duration::from_secs(2));
                }
                let cache =
                    crate::cache::Cache::new(settings, &metrics, false).map_err(|e| Failure::Failed(e.to_string()))?;
                let hashes = db.session_hashes_of(user.id).await?;
                cache.forget_sessions(&hashes).await.map_err(|e| {
                    Failure::Failed(format!(
                        "the role changed, but its sessions' cached copies stay until they expire: {e}"
                    ))
                })?;
            }
            let action = if role == Role::Admin { "role.admin_granted" } else { "role.admin_revoked" };
            record(db, action, ("user", user.id.to_string())).await;
        }
        Ok(format!("{username} is now {}", if role == Role::Admin { "an admin" } else { "a user" }))
    } else {
        Err(Failure::Usage(format!("nobody is called {username:?}")))
    }
}
