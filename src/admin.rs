//! `pujo admin`: the few things done from a shell rather than the site (the first
//! admin has nobody to grant them the role).

use std::process::ExitCode;

use crate::api::pandals::check_pandal;
use crate::api::views::Check;
use crate::cli::AdminAction;
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
            Ok(format!("created pandal {}: {}, {} {}", pandal.id, pandal.name, pandal.city, pandal.year))
        }
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
        }
        Ok(format!("{username} is now {}", if role == Role::Admin { "an admin" } else { "a user" }))
    } else {
        Err(Failure::Usage(format!("nobody is called {username:?}")))
    }
}
