//! Logging through `tracing`: JSON lines when stdout is not a terminal, text when it is.
//!
//! Lines are formatted on the thread that logs them and appended to a shared buffer; a
//! background thread writes the buffer to stdout every 50 ms (or at once when it grows
//! past 256 KiB, or at exit). That is nginx's `access_log buffer= flush=` idea: one
//! write per batch instead of a syscall and a thread wake-up per request, and nothing
//! is dropped under load.

use std::fmt::{self, Write as _};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex};
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
                    let _ = worker.wake.wait_timeout(buffer, FLUSH_EVERY);
                }
                worker.flush();
            }
        });
        if let Err(e) = spawned {
            eprintln!("pujo: cannot start the log thread ({e}); logs are written as they come");
        }
        BatchWriter { shared }
    }
}

impl Write for BatchWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.shared.buffer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        buffer.extend_from_slice(bytes);
        if buffer.len() >= FLUSH_AT_BYTES {
            self.shared.wake.notify_one();
        }
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
    }
}
