//! One log line per call, target `roster::access`, written by the metrics
//! layer when it records the call, so a line and a metric never disagree.
//!
//! The line is formatted here, straight into a reused buffer, in the shape
//! (`--log-format json` or text) that tracing-subscriber writes, and
//! appended to a batch; a thread of its own hands the batch to the same
//! non-blocking writer as every other log line, at most [`GATHER`] after its
//! first line. One hand-off (and one wake-up of the writing thread) per
//! batch instead of per call: going through tracing's formatter and its
//! queue line by line cost about 15% of a GetUser call's throughput
//! (bench/README.md, issue 10). So an access line may trail the lines
//! logged around it by up to [`GATHER`]; lines beyond [`MAX_PENDING`]
//! bytes waiting (a writer that cannot keep up) are dropped, like
//! tracing-appender drops its own. `RUST_LOG` still decides whether lines
//! are written ([`enabled`]); before the log is set up (in tests), lines go
//! through tracing.
use std::cell::RefCell;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use http::HeaderValue;
use tracing_appender::non_blocking::NonBlocking;

use crate::config::LogFormat;
use crate::telemetry::metrics::Protocol;

/// What one call's line says.
pub(crate) struct Entry<'a> {
    /// The request path, `/package.Service/Method`.
    pub(crate) path: &'a str,
    pub(crate) protocol: Protocol,
    /// The gRPC status code name.
    pub(crate) code: &'static str,
    pub(crate) elapsed: Duration,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) request_id: Option<&'a HeaderValue>,
}

/// How long a batch gathers lines after its first one.
pub(crate) const GATHER: Duration = Duration::from_millis(10);

/// Bytes of lines that may wait; more are dropped.
pub(crate) const MAX_PENDING: usize = 4 << 20;

/// Where formatted lines go once the log is set up.
struct Sink {
    format: LogFormat,
    /// Lines not yet handed to the writer.
    pending: Mutex<Vec<u8>>,
    /// Wakes the flushing thread when a batch begins.
    batch_started: Condvar,
    writer: NonBlocking,
}

impl Sink {
    fn pending(&self) -> MutexGuard<'_, Vec<u8>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands whatever is pending to the writer.
    fn flush(&self, spare: &mut Vec<u8>) {
        std::mem::swap(&mut *self.pending(), spare);
        if !spare.is_empty() {
            // A full queue drops the batch, as tracing-appender does.
            let _ = self.writer.clone().write_all(spare);
            spare.clear();
        }
    }
}

static SINK: OnceLock<Sink> = OnceLock::new();

/// Sends access lines to `writer` in `format`, in batches; the first call
/// wins. Starts the thread that flushes them.
pub(crate) fn install(writer: NonBlocking, format: LogFormat) {
    let sink = Sink {
        format,
        pending: Mutex::new(Vec::with_capacity(64 * 1024)),
        batch_started: Condvar::new(),
        writer,
    };
    if SINK.set(sink).is_err() {
        return;
    }
    let started = std::thread::Builder::new()
        .name("access-log".to_owned())
        .spawn(|| {
            let Some(sink) = SINK.get() else { return };
            let mut spare = Vec::with_capacity(64 * 1024);
            loop {
                let mut pending = sink.pending();
                while pending.is_empty() {
                    pending = sink
                        .batch_started
                        .wait(pending)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                drop(pending);
                std::thread::sleep(GATHER);
                sink.flush(&mut spare);
            }
        });
    if let Err(error) = started {
        tracing::warn!(%error, "cannot start the access-log thread: access lines wait for exit");
    }
}

/// Hands the pending lines to the writer now (at exit, before the log's
/// own queue is flushed).
pub(crate) fn flush() {
    if let Some(sink) = SINK.get() {
        sink.flush(&mut Vec::new());
    }
}

/// Whether lines are written at all; when not, the layer does not even
/// capture what they would say.
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: "roster::access", tracing::Level::INFO)
}

thread_local! {
    static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
}

pub(crate) fn write(entry: Entry<'_>) {
    let Some(sink) = SINK.get() else {
        write_through_tracing(&entry);
        return;
    };
    LINE.with_borrow_mut(|line| {
        line.clear();
        match sink.format {
            LogFormat::Json => json_line(line, &entry, SystemTime::now()),
            LogFormat::Text => text_line(line, &entry, SystemTime::now()),
        }
        let mut pending = sink.pending();
        if pending.len() + line.len() > MAX_PENDING {
            return;
        }
        let first = pending.is_empty();
        pending.extend_from_slice(line);
        drop(pending);
        if first {
            sink.batch_started.notify_one();
        }
    });
}

fn write_through_tracing(entry: &Entry<'_>) {
    tracing::info!(
        target: "roster::access",
        method = entry.path,
        protocol = entry.protocol.label(),
        code = entry.code,
        latency = entry.elapsed.as_nanos() as f64 / 1e6,
        peer = entry.peer.map(tracing::field::display),
        request_id = entry.request_id.and_then(|value| value.to_str().ok()),
        "call finished"
    );
}

/// As tracing-subscriber's flattened JSON: timestamp, level, message, the
/// fields, target.
fn json_line(line: &mut Vec<u8>, entry: &Entry<'_>, now: SystemTime) {
    line.extend_from_slice(b"{\"timestamp\":\"");
    write_timestamp(line, now);
    line.extend_from_slice(b"\",\"level\":\"INFO\",\"message\":\"call finished\",\"method\":");
    json_string(line, entry.path);
    line.extend_from_slice(b",\"protocol\":\"");
    line.extend_from_slice(entry.protocol.label().as_bytes());
    line.extend_from_slice(b"\",\"code\":\"");
    line.extend_from_slice(entry.code.as_bytes());
    line.extend_from_slice(b"\",\"latency\":");
    let _ = write!(line, "{}", entry.elapsed.as_nanos() as f64 / 1e6);
    if let Some(peer) = entry.peer {
        let _ = write!(line, ",\"peer\":\"{peer}\"");
    }
    if let Some(request_id) = entry.request_id.and_then(|value| value.to_str().ok()) {
        line.extend_from_slice(b",\"request_id\":");
        json_string(line, request_id);
    }
    line.extend_from_slice(b",\"target\":\"roster::access\"}\n");
}

/// As tracing-subscriber's full text format without colour.
fn text_line(line: &mut Vec<u8>, entry: &Entry<'_>, now: SystemTime) {
    write_timestamp(line, now);
    line.extend_from_slice(b"  INFO roster::access: call finished method=");
    let _ = write!(line, "{:?}", entry.path);
    let _ = write!(
        line,
        " protocol={:?} code={:?} latency={}",
        entry.protocol.label(),
        entry.code,
        entry.elapsed.as_nanos() as f64 / 1e6
    );
    if let Some(peer) = entry.peer {
        let _ = write!(line, " peer={peer}");
    }
    if let Some(request_id) = entry.request_id.and_then(|value| value.to_str().ok()) {
        let _ = write!(line, " request_id={request_id:?}");
    }
    line.push(b'\n');
}

fn json_string(line: &mut Vec<u8>, text: &str) {
    line.push(b'"');
    for character in text.chars() {
        match character {
            '"' => line.extend_from_slice(b"\\\""),
            '\\' => line.extend_from_slice(b"\\\\"),
            '\n' => line.extend_from_slice(b"\\n"),
            '\r' => line.extend_from_slice(b"\\r"),
            '\t' => line.extend_from_slice(b"\\t"),
            control if (control as u32) < 0x20 => {
                let _ = write!(line, "\\u{:04x}", control as u32);
            }
            other => {
                let mut buffer = [0u8; 4];
                line.extend_from_slice(other.encode_utf8(&mut buffer).as_bytes());
            }
        }
    }
    line.push(b'"');
}

/// RFC 3339 in UTC with microseconds, `2026-12-02T01:11:57.770729Z`
/// (civil-from-days after Howard Hinnant).
fn write_timestamp(line: &mut Vec<u8>, now: SystemTime) {
    let since_epoch = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = since_epoch.as_secs() as i64;
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let _ = write!(
        line,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
        since_epoch.subsec_micros()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(request_id: Option<&HeaderValue>) -> Entry<'_> {
        Entry {
            path: "/goodmem.v1.UserService/GetUser",
            protocol: Protocol::Grpc,
            code: "OK",
            elapsed: Duration::from_micros(28_484),
            peer: Some("127.0.0.1:59588".parse().unwrap()),
            request_id,
        }
    }

    const AT: Duration = Duration::from_micros(1_796_174_317_770_729);

    #[test]
    fn json_lines_have_the_subscribers_shape() {
        let request_id = HeaderValue::from_static("r\"1");
        let mut line = Vec::new();
        json_line(
            &mut line,
            &entry(Some(&request_id)),
            SystemTime::UNIX_EPOCH + AT,
        );
        let text = String::from_utf8(line).unwrap();
        assert_eq!(
            text,
            "{\"timestamp\":\"2026-12-02T01:18:37.770729Z\",\"level\":\"INFO\",\
             \"message\":\"call finished\",\"method\":\"/goodmem.v1.UserService/GetUser\",\
             \"protocol\":\"grpc\",\"code\":\"OK\",\"latency\":28.484,\
             \"peer\":\"127.0.0.1:59588\",\"request_id\":\"r\\\"1\",\
             \"target\":\"roster::access\"}\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["request_id"], "r\"1");
    }

    #[test]
    fn text_lines_read_like_the_others() {
        let mut line = Vec::new();
        text_line(&mut line, &entry(None), SystemTime::UNIX_EPOCH + AT);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "2026-12-02T01:18:37.770729Z  INFO roster::access: call finished \
             method=\"/goodmem.v1.UserService/GetUser\" protocol=\"grpc\" code=\"OK\" \
             latency=28.484 peer=127.0.0.1:59588\n"
        );
    }
}
