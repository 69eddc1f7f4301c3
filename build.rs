//! Build script: makes sure the React site is built, then stages it for embedding.
//!
//! The site comes from `PUJO_WEB_DIST` when set (Nix builds the frontend on its own and
//! passes it in), otherwise from `web/dist`, which is rebuilt with npm when it is missing
//! or older than its sources. The staged copy in `$OUT_DIR/site` carries a `.br` and a
//! `.gz` variant next to every compressible file, made here once so that serving never
//! compresses.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// Inputs of the frontend build; a change to any of them rebuilds `web/dist`.
const WEB_INPUTS: &[&str] = &[
    "web/src",
    "web/sw",
    "web/public",
    "web/index.html",
    "web/package.json",
    "web/package-lock.json",
    "web/vite.config.ts",
    "web/tsconfig.json",
    "web/tsconfig.app.json",
    "web/tsconfig.node.json",
    "web/tsconfig.sw.json",
];

/// Files worth compressing; images and fonts are already compressed.
const COMPRESSIBLE: &[&str] = &["html", "js", "mjs", "css", "svg", "json", "txt", "map", "webmanifest", "xml"];

fn main() {
    println!("cargo:rerun-if-env-changed=PUJO_WEB_DIST");
    println!("cargo:rerun-if-env-changed=PUJO_GIT_SHA");
    // The migrations are embedded by a macro that tells cargo nothing: a new file alone
    // must still rebuild the binary that applies them.
    println!("cargo:rerun-if-changed=migrations");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));

    let dist = match std::env::var_os("PUJO_WEB_DIST") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if !dir.join("index.html").is_file() {
                fail(&format!("PUJO_WEB_DIST={} has no index.html", dir.display()));
            }
            // A site built elsewhere: its files are the input.
            println!("cargo:rerun-if-changed={}", dir.display());
            dir
        }
        // `web/dist` is this script's own output (or npm's, from the same inputs, which
        // `build_web` watches). Watching it too made every build after the one that
        // wrote it a rebuild: Cargo saw it newer than the script's last run.
        None => build_web(&manifest),
    };

    let site = out.join("site");
    if site.exists() {
        fs::remove_dir_all(&site).unwrap_or_else(|e| fail(&format!("cannot clear {}: {e}", site.display())));
    }
    stage(&dist, &site);
    println!("cargo:rustc-env=PUJO_GIT_SHA={}", git_sha(&manifest));
}

fn fail(message: &str) -> ! {
    eprintln!("\nerror: pujo build: {message}\n");
    panic!("pujo build: {message}");
}

/// Builds `web/dist` with npm when it is missing or older than any input.
fn build_web(manifest: &Path) -> PathBuf {
    let web = manifest.join("web");
    let dist = web.join("dist");
    for input in WEB_INPUTS {
        println!("cargo:rerun-if-changed={input}");
    }
    let newest_input = WEB_INPUTS.iter().filter_map(|p| newest_mtime(&manifest.join(p))).max();
    let built = fs::metadata(dist.join("index.html")).and_then(|m| m.modified()).ok();
    let fresh = matches!((built, newest_input), (Some(b), Some(i)) if b >= i);
    if fresh {
        return dist;
    }
    if Command::new("npm").arg("--version").output().is_err() {
        fail(
            "web/dist is missing or out of date and npm was not found. Install Node.js 20+ \
             (e.g. `apt-get install nodejs npm`) or set PUJO_WEB_DIST to a built site.",
        );
    }
    if !web.join("node_modules").is_dir()
        || older(&web.join("node_modules/.package-lock.json"), &web.join("package-lock.json"))
    {
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&web), "npm ci");
    }
    run(Command::new("npm").args(["run", "build"]).current_dir(&web), "npm run build");
    if !dist.join("index.html").is_file() {
        fail("npm run build finished but web/dist/index.html is missing");
    }
    dist
}

fn older(a: &Path, b: &Path) -> bool {
    let m = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    match (m(a), m(b)) {
        (Some(a), Some(b)) => a < b,
        _ => true,
    }
}

fn run(cmd: &mut Command, what: &str) {
    let status = cmd.status().unwrap_or_else(|e| fail(&format!("{what} could not start: {e}")));
    if !status.success() {
        fail(&format!("{what} failed ({status}); run it in web/ to see why"));
    }
}

fn newest_mtime(path: &Path) -> Option<SystemTime> {
    let meta = fs::metadata(path).ok()?;
    if meta.is_file() {
        return meta.modified().ok();
    }
    fs::read_dir(path).ok()?.filter_map(Result::ok).filter_map(|e| newest_mtime(&e.path())).max()
}

/// Copies `from` into `to`, adding `.br` and `.gz` variants that are smaller than the file.
fn stage(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| fail(&format!("cannot create {}: {e}", to.display())));
    let entries = fs::read_dir(from).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", from.display())));
    for entry in entries.filter_map(Result::ok) {
        let src = entry.path();
        let dst = to.join(entry.file_name());
        if src.is_dir() {
            stage(&src, &dst);
            continue;
        }
        let bytes = fs::read(&src).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", src.display())));
        fs::write(&dst, &bytes).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", dst.display())));
        let ext = src.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !COMPRESSIBLE.contains(&ext) {
            continue;
        }
        let br = brotli_bytes(&bytes);
        if br.len() < bytes.len() {
            fs::write(with_suffix(&dst, "br"), br).unwrap_or_else(|e| fail(&e.to_string()));
        }
        let gz = gzip_bytes(&bytes);
        if gz.len() < bytes.len() {
            fs::write(with_suffix(&dst, "gz"), gz).unwrap_or_else(|e| fail(&e.to_string()));
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn brotli_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).unwrap_or_else(|e| fail(&format!("brotli: {e}")));
    out
}

fn gzip_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap_or_else(|e| fail(&format!("gzip: {e}")));
    enc.finish().unwrap_or_else(|e| fail(&format!("gzip: {e}")))
}

/// The commit the binary is built from, for `pujo_build_info`; "unknown" outside git.
fn git_sha(manifest: &Path) -> String {
    if let Ok(sha) = std::env::var("PUJO_GIT_SHA") {
        return sha;
    }
    let head = manifest.join(".git/HEAD");
    if head.exists() {
        println!("cargo:rerun-if-changed=.git/HEAD");
    }
    Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(manifest)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
