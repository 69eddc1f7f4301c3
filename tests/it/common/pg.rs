//! A PostgreSQL server of a test's own, for what the shared one must not suffer:
//! being stopped and restarted, or requiring TLS. `scripts/test.sh` exports where the
//! binaries are (`TEST_PG_BIN`) and, when running as root, the user that runs them
//! (`TEST_PG_USER`).

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PgServer {
    dir: tempfile::TempDir,
    pub port: u16,
    bin: PathBuf,
    user: Option<String>,
}

impl PgServer {
    /// initdb in a temp folder and start on a free loopback port; `conf` lines are
    /// appended to postgresql.conf, `hba` (if given) replaces pg_hba.conf, and `files`
    /// are written into the data folder first (certificates).
    pub fn start(conf: &[&str], hba: Option<&str>, files: &[(&str, &[u8])]) -> PgServer {
        let bin = PathBuf::from(std::env::var("TEST_PG_BIN").unwrap_or_else(|_| {
            panic!("TEST_PG_BIN is not set: run scripts/test.sh, or export the folder of PostgreSQL 15's initdb")
        }));
        let user = std::env::var("TEST_PG_USER").ok().filter(|u| !u.is_empty());
        let dir = tempfile::tempdir().expect("temp dir");
        let server = PgServer { port: super::free_port(), dir, bin, user };
        let data = server.data();
        server.chown(server.dir.path());
        server.run(
            "initdb",
            &["-D", &data.display().to_string(), "-U", "pujo", "--auth=trust", "-E", "UTF8", "--no-sync"],
        );
        for (name, bytes) in files {
            let path = data.join(name);
            std::fs::write(&path, bytes).expect("write file");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        let mut settings = std::fs::read_to_string(data.join("postgresql.conf")).expect("conf");
        settings.push_str(&format!(
            "\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nfsync = off\n",
            server.port,
            server.dir.path().display()
        ));
        for line in conf {
            settings.push_str(line);
            settings.push('\n');
        }
        std::fs::write(data.join("postgresql.conf"), settings).expect("conf");
        if let Some(hba) = hba {
            std::fs::write(data.join("pg_hba.conf"), hba).expect("hba");
        }
        server.chown(server.dir.path());
        server.resume();
        server
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://pujo@{host}:{}/postgres{query}", self.port)
    }

    /// A fast shutdown: every connection is closed, as in a failover or a restart.
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data().display().to_string(), "-m", "fast", "-w", "stop"]);
    }

    /// Starts the server again on the same port and data.
    pub fn resume(&self) {
        let log = self.dir.path().join("log");
        self.run(
            "pg_ctl",
            &["-D", &self.data().display().to_string(), "-l", &log.display().to_string(), "-w", "start"],
        );
    }

    fn run(&self, program: &str, args: &[&str]) {
        let exe = self.bin.join(program);
        let mut cmd = match &self.user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = cmd.args(args).output().unwrap_or_else(|e| panic!("run {}: {e}", exe.display()));
        assert!(
            out.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn chown(&self, path: &Path) {
        if let Some(user) = &self.user {
            let ok = Command::new("chown").args(["-R", user]).arg(path).status().expect("chown").success();
            assert!(ok, "chown {}", path.display());
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let exe = self.bin.join("pg_ctl");
        let mut cmd = match &self.user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let _ = cmd.args(["-D", &data, "-m", "immediate", "stop"]).output();
    }
}
