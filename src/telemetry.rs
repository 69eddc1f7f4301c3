//! Logging through `tracing`: JSON lines when stdout is not a terminal, text when it is.
//!
//! Lines are formatted on the thread that logs them and appended to a shared buffer; a
//! background thread writes the buffer to stdout every 50 ms (or at once when it grows
//! past 256 KiB, or at exit). That is nginx's `access_log buffer= flush=` idea: one
//! write per batch instead of a syscall and a thread wake-up per request, and nothing
//! is dropped under load.
//!
//! The access log, one line per request, skips `tracing`'s event machinery when the
//! logs are JSON lines: [`access`] writes the same object, fields in the same order,
//! straight into the buffer (the date is formatted once a second). On a terminal, or
//! when `PUJO_LOG` turns `pujo::access` off, it is an ordinary `tracing` event.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

use crate::config::{Config, LogFormat};

const FLUSH_EVERY: Duration = Duration::from_millis(50);
const FLUSH_AT_BYTES: usize = 256 * 1024;

/// Installs the global subscriber once; later calls (tests) are ignored. Keep the
/// returned guard alive until exit: dropping it writes what is still buffered.
pub fn init(config: &Config) -> LogGuard {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|e| {
        eprintln!("pujo: PUJO_LOG {:?} is not a valid filter ({e}); using `info`", config.log);
        EnvFilter::new("info")
    });
    let json = match config.log_format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let writer = BatchWriter::start();
    if json {
        let _ = ACCESS.set(writer.clone());
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_ansi(!json && std::io::stdout().is_terminal())
        .with_writer(writer.clone());
    let _ = if json { builder.event_format(JsonLines).try_init() } else { builder.try_init() };
    LogGuard(writer)
}

/// One JSON object per line: timestamp, level, target, message, then the event's fields.
/// Written straight into the line buffer (tracing-subscriber's own JSON format builds a
/// map of values per event, which costs more than the request it describes).
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        writer.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(&mut writer)?;
        write!(writer, "\",\"level\":\"{}\",\"target\":", meta.level())?;
        write_json_str(&mut writer, meta.target())?;
        let mut fields = JsonFields { writer: &mut writer, result: Ok(()) };
        event.record(&mut fields);
        fields.result?;
        writer.write_str("}\n")
    }
}

struct JsonFields<'a, 'w> {
    writer: &'a mut Writer<'w>,
    result: fmt::Result,
}

impl JsonFields<'_, '_> {
    fn key(&mut self, field: &Field) -> fmt::Result {
        write!(self.writer, ",\"{}\":", field.name())
    }
}

impl Visit for JsonFields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.result.is_ok() {
            self.result = self.key(field).and_then(|()| write_json_str(self.writer, value));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.result.is_ok() {
            self.result = self.key(field).and_then(|()| write!(self.writer, "{value}"));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.result.is_ok() {
            self.result = self.key(field).and_then(|()| write!(self.writer, "{value}"));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.result.is_ok() {
            self.result = self.key(field).and_then(|()| write!(self.writer, "{value}"));
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if self.result.is_ok() {
            self.result = self.key(field).and_then(|()| {
                if value.is_finite() { write!(self.writer, "{value}") } else { self.writer.write_str("null") }
            });
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_ok() {
            self.result = self.key(field).and_then(|()| {
                self.writer.write_char('"')?;
                write!(Escaped(self.writer), "{value:?}")?;
                self.writer.write_char('"')
            });
        }
    }
}

fn write_json_str(out: &mut impl fmt::Write, value: &str) -> fmt::Result {
    out.write_char('"')?;
    Escaped(out).write_str(value)?;
    out.write_char('"')
}

/// Escapes what passes through it for a JSON string.
struct Escaped<'a, W: fmt::Write>(&'a mut W);

impl<W: fmt::Write> fmt::Write for Escaped<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut start = 0;
        for (i, c) in s.char_indices() {
            let escape = match c {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                c if (c as u32) < 0x20 => "",
                _ => continue,
            };
            self.0.write_str(&s[start..i])?;
            if escape.is_empty() {
                write!(self.0, "\\u{:04x}", c as u32)?;
            } else {
                self.0.write_str(escape)?;
            }
            start = i + c.len_utf8();
        }
        self.0.write_str(&s[start..])
    }
}

/// Where access lines go when the logs are JSON lines.
static ACCESS: OnceLock<BatchWriter> = OnceLock::new();

/// One request of the access log: `{"timestamp":..,"level":"INFO","target":"pujo::access",
/// "message":"request","listener":..,"method":..,"route":..,"status":..,"duration_ms":..,
/// "request_id":..}`.
pub fn access(listener: &str, method: &str, route: &str, status: u16, elapsed: Duration, request_id: &str) {
    match ACCESS.get() {
        Some(writer) if tracing::enabled!(target: "pujo::access", tracing::Level::INFO) => {
            thread_local! {
                static LINE: RefCell<(Vec<u8>, Clock)> = RefCell::new((Vec::with_capacity(256), Clock::default()));
            }
            LINE.with_borrow_mut(|(line, clock)| {
                line.clear();
                line.extend_from_slice(b"{\"timestamp\":\"");
                clock.write_now(line);
                line.extend_from_slice(b"\",\"level\":\"INFO\",\"target\":\"pujo::access\",\"message\":\"request\"");
                access_fields(line, listener, method, route, status, elapsed, request_id);
                line.extend_from_slice(b"}\n");
                writer.append(line);
            });
        }
        _ => tracing::info!(
            target: "pujo::access",
            listener,
            method,
            route,
            status,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            request_id,
            "request"
        ),
    }
}

fn access_fields(
    line: &mut Vec<u8>,
    listener: &str,
    method: &str,
    route: &str,
    status: u16,
    elapsed: Duration,
    request_id: &str,
) {
    for (key, value) in [(",\"listener\":", listener), (",\"method\":", method), (",\"route\":", route)] {
        line.extend_from_slice(key.as_bytes());
        push_json_str(line, value);
    }
    line.extend_from_slice(b",\"status\":");
    push_u64(line, u64::from(status));
    // Milliseconds with microsecond digits, as a JSON number.
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    line.extend_from_slice(b",\"duration_ms\":");
    push_u64(line, micros / 1000);
    line.push(b'.');
    push_padded(line, micros % 1000, 3);
    line.extend_from_slice(b",\"request_id\":");
    push_json_str(line, request_id);
}

/// The wall clock as RFC 3339 UTC with microseconds, the date and time of day
/// formatted again only when the second changes.
#[derive(Default)]
struct Clock {
    /// The second `text` was formatted for.
    second: Option<u64>,
    text: Vec<u8>,
}

impl Clock {
    fn write_now(&mut self, out: &mut Vec<u8>) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        self.write(out, now);
    }

    fn write(&mut self, out: &mut Vec<u8>, since_epoch: Duration) {
        let second = since_epoch.as_secs();
        if self.second != Some(second) {
            self.second = Some(second);
            self.text.clear();
            civil_time(&mut self.text, second);
        }
        out.extend_from_slice(&self.text);
        out.push(b'.');
        push_padded(out, u64::from(since_epoch.subsec_micros()), 6);
        out.push(b'Z');
    }
}

/// Appends `YYYY-MM-DDTHH:MM:SS` for seconds since 1970 (proleptic Gregorian calendar,
/// from Howard Hinnant's `civil_from_days`).
fn civil_time(out: &mut Vec<u8>, second: u64) {
    let days = second / 86_400;
    let of_day = second % 86_400;
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    for (value, width, after) in [
        (year, 4, Some(b'-')),
        (month, 2, Some(b'-')),
        (day, 2, Some(b'T')),
        (of_day / 3600, 2, Some(b':')),
        (of_day / 60 % 60, 2, Some(b':')),
        (of_day % 60, 2, None),
    ] {
        push_padded(out, value, width);
        out.extend(after);
    }
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// `n` in exactly `width` decimal digits (its last ones when it has more).
fn push_padded(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let start = out.len();
    out.resize(start + width, b'0');
    for slot in out[start..].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

fn push_json_str(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    if value.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        let mut escaped = String::new();
        let _ = Escaped(&mut escaped).write_str(value);
        out.extend_from_slice(escaped.as_bytes());
    } else {
        out.extend_from_slice(value.as_bytes());
    }
    out.push(b'"');
}

/// Flushes the log buffer when dropped.
pub struct LogGuard(BatchWriter);

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.0.shared.flush();
    }
}

struct Shared {
    buffer: Mutex<Vec<u8>>,
    /// The buffer written out last time, kept with its capacity and swapped in at the
    /// next flush: lines are appended to memory that is already there, never to a
    /// buffer growing from nothing (reallocations cost more than the lines did).
    spare: Mutex<Vec<u8>>,
    wake: Condvar,
}

impl Shared {
    /// Writes out everything buffered so far; write errors are ignored (there is
    /// nowhere left to report them).
    fn flush(&self) {
        let mut spare = self.spare.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        {
            let mut buffer = self.buffer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            std::mem::swap(&mut *buffer, &mut *spare);
        }
        if !spare.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&spare);
            let _ = out.flush();
        }
        spare.clear();
        // A burst may have grown it far past the usual; do not keep that for ever.
        if spare.capacity() > 4 * FLUSH_AT_BYTES {
            spare.shrink_to(FLUSH_AT_BYTES);
        }
    }
}

/// A `MakeWriter` whose writes land in a shared buffer drained by one thread.
#[derive(Clone)]
pub struct BatchWriter {
    shared: Arc<Shared>,
}

impl BatchWriter {
    fn start() -> BatchWriter {
        let shared = Arc::new(Shared {
            buffer: Mutex::new(Vec::with_capacity(FLUSH_AT_BYTES)),
            spare: Mutex::new(Vec::with_capacity(FLUSH_AT_BYTES)),
            wake: Condvar::new(),
        });
        let worker = shared.clone();
        let spawned = std::thread::Builder::new().name("pujo-log".into()).spawn(move || {
            loop {
                {
                    let buffer = worker.buffer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if buffer.len() < FLUSH_AT_BYTES {
                        let _ = worker.wake.wait_timeout(buffer, FLUSH_EVERY);
                    }
                }
                worker.flush();
            }
        });
        if let Err(e) = spawned {
            eprintln!("pujo: cannot start the log thread ({e}); logs are written as they come");
        }
        BatchWriter { shared }
    }

    fn append(&self, bytes: &[u8]) {
        let mut buffer = self.shared.buffer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = buffer.len();
        buffer.extend_from_slice(bytes);
        // Once, when the buffer crosses the mark: a notification is a system call, and
        // the writer checks the mark itself before it waits, so none is lost.
        if before < FLUSH_AT_BYTES && buffer.len() >= FLUSH_AT_BYTES {
            self.shared.wake.notify_one();
        }
    }
}

impl Write for BatchWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.append(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = BatchWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let mut out = String::new();
        write_json_str(&mut out, "a\"b\\c\nd\u{1}é").unwrap();
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
        let parsed: String = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed, "a\"b\\c\nd\u{1}é");
        let mut bytes = Vec::new();
        push_json_str(&mut bytes, "a\"b\\c\nd\u{1}é");
        assert_eq!(bytes, out.as_bytes(), "the access log escapes the same way");
    }

    #[test]
    fn the_clock_writes_rfc3339_utc_and_follows_the_second() {
        let mut clock = Clock::default();
        let mut out = Vec::new();
        for (since_epoch, expected) in [
            (Duration::ZERO, "1970-01-01T00:00:00.000000Z"),
            (Duration::new(951_782_399, 999_999_000), "2000-02-28T23:59:59.999999Z"),
            (Duration::new(951_782_400, 5_000), "2000-02-29T00:00:00.000005Z"),
            (Duration::new(1_795_512_635, 129_001_000), "2026-11-24T09:30:35.129001Z"),
            (Duration::new(1_795_512_636, 0), "2026-11-24T09:30:36.000000Z"),
            (Duration::new(4_107_542_400, 0), "2100-03-01T00:00:00.000000Z"),
        ] {
            out.clear();
            clock.write(&mut out, since_epoch);
            assert_eq!(String::from_utf8_lossy(&out), expected);
        }
    }

    #[test]
    fn access_fields_are_a_json_object_tail() {
        let mut line = b"{\"message\":\"request\"".to_vec();
        access_fields(&mut line, "public", "GET", "/{*spa}", 200, Duration::from_micros(12_345), "id\"1");
        line.push(b'}');
        assert_eq!(
            String::from_utf8_lossy(&line),
            r#"{"message":"request","listener":"public","method":"GET","route":"/{*spa}","status":200,"duration_ms":12.345,"request_id":"id\"1"}"#
        );
        let parsed: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(parsed["duration_ms"], 12.345);
        let mut quick = Vec::new();
        access_fields(&mut quick, "admin", "HEAD", "/", 304, Duration::from_nanos(999), "x");
        assert!(String::from_utf8_lossy(&quick).contains(r#""duration_ms":0.000,"#));
    }
}
