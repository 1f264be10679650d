//! Connect's envelopes: a flags byte, a 4-byte big-endian length, the
//! message — the same prefix as a gRPC frame, which is why translating a
//! stream is mostly re-flagging. Also gzip, the one compression offered.
use std::io::{Read as _, Write as _};

use bytes::{Buf as _, Bytes, BytesMut};
use tonic::Status;

pub(crate) use crate::api::grpc_unary::too_large;

/// The message is compressed with the stream's negotiated encoding.
pub(crate) const COMPRESSED: u8 = 0b01;
/// The server's last envelope: a JSON end-of-stream message.
pub(crate) const END_STREAM: u8 = 0b10;

/// One envelope.
#[derive(Debug)]
pub(crate) struct Envelope {
    pub(crate) flags: u8,
    pub(crate) data: Bytes,
}

/// Splits a byte stream, arriving in arbitrary chunks, into envelopes.
#[derive(Debug, Default)]
pub(crate) struct EnvelopeReader {
    buffer: BytesMut,
}

impl EnvelopeReader {
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Whether bytes of an unfinished envelope are left over.
    pub(crate) fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// The next complete envelope, if it has arrived. One that declares
    /// more than `max` bytes is refused before it is buffered.
    pub(crate) fn next(&mut self, max: usize) -> Result<Option<Envelope>, Status> {
        if self.buffer.len() < 5 {
            return Ok(None);
        }
        let flags = self.buffer[0];
        let length = u32::from_be_bytes([
            self.buffer[1],
            self.buffer[2],
            self.buffer[3],
            self.buffer[4],
        ]) as usize;
        if length > max {
            return Err(too_large(max));
        }
        if self.buffer.len() < 5 + length {
            return Ok(None);
        }
        self.buffer.advance(5);
        let data = self.buffer.split_to(length).freeze();
        Ok(Some(Envelope { flags, data }))
    }
}

/// `data` with its 5-byte prefix.
pub(crate) fn encode(flags: u8, data: &[u8]) -> Bytes {
    let mut framed = Vec::with_capacity(5 + data.len());
    framed.push(flags);
    // Messages are bounded far below 4 GiB by the size limits.
    framed.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    framed.extend_from_slice(data);
    Bytes::from(framed)
}

/// Messages shorter than this are sent uncompressed even when the client
/// accepts gzip: below a kilobyte the header costs more than it saves.
pub(crate) const COMPRESS_MIN_BYTES: usize = 1024;

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 2 + 32),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// Inflates a gzip body, refusing to inflate past `max` bytes (a small
/// body must not be able to expand into a large allocation).
pub(crate) fn gunzip(data: &[u8], max: usize) -> Result<Bytes, Status> {
    let mut inflated = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::GzDecoder::new(data)
        .take(limit)
        .read_to_end(&mut inflated)
        .map_err(|error| Status::invalid_argument(format!("malformed gzip content: {error}")))?;
    if inflated.len() > max {
        return Err(too_large(max));
    }
    Ok(Bytes::from(inflated))
}

/// Whether an `accept-encoding`-style list names gzip (with a non-zero q).
pub(crate) fn accepts_gzip(value: Option<&http::HeaderValue>) -> bool {
    let Some(text) = value.and_then(|value| value.to_str().ok()) else {
        return false;
    };
    text.split(',').any(|item| {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let refused = parts.any(|parameter| {
            parameter
                .trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        name.eq_ignore_ascii_case("gzip") && !refused
    })
}

/// Whether a request's content encoding (`None`: identity) is gzip;
/// anything but gzip and identity is `UNIMPLEMENTED`.
pub(crate) fn is_gzip(value: Option<&http::HeaderValue>) -> Result<bool, Status> {
    match value.map(http::HeaderValue::as_bytes) {
        None => Ok(false),
        Some(name) if name.eq_ignore_ascii_case(b"identity") => Ok(false),
        Some(name) if name.eq_ignore_ascii_case(b"gzip") => Ok(true),
        Some(name) => Err(Status::unimplemented(format!(
            "content encoding {:?} is not supported: use gzip or identity",
            String::from_utf8_lossy(name)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_are_read_across_chunk_boundaries() {
        let mut reader = EnvelopeReader::default();
        let mut bytes = encode(0, b"abc").to_vec();
        bytes.extend_from_slice(&encode(END_STREAM, b"{}"));
        for byte in &bytes[..4] {
            reader.push(&[*byte]);
            assert!(reader.next(10).unwrap().is_none());
        }
        reader.push(&bytes[4..]);
        let first = reader.next(10).unwrap().unwrap();
        assert_eq!((first.flags, first.data.as_ref()), (0, &b"abc"[..]));
        let last = reader.next(10).unwrap().unwrap();
        assert_eq!((last.flags, last.data.as_ref()), (END_STREAM, &b"{}"[..]));
        assert!(reader.is_empty());
    }

    #[test]
    fn an_oversize_envelope_is_refused_from_its_header() {
        let mut reader = EnvelopeReader::default();
        reader.push(&[0, 0, 0, 1, 0]);
        assert_eq!(
            reader.next(255).unwrap_err().code(),
            tonic::Code::OutOfRange
        );
    }

    #[test]
    fn gzip_round_trips_and_bombs_are_stopped() {
        let data = vec![7u8; 10_000];
        assert_eq!(gunzip(&gzip(&data), 10_000).unwrap().as_ref(), &data[..]);
        assert_eq!(
            gunzip(&gzip(&data), 9_999).unwrap_err().code(),
            tonic::Code::OutOfRange
        );
        assert_eq!(
            gunzip(b"not gzip", 100).unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
    }

    #[test]
    fn accept_encoding_lists_are_read() {
        let accepts =
            |text: &'static str| accepts_gzip(Some(&http::HeaderValue::from_static(text)));
        assert!(accepts("gzip"));
        assert!(accepts("br, GZIP;q=0.5"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("br"));
        assert!(!accepts_gzip(None));
        assert!(is_gzip(Some(&http::HeaderValue::from_static("zstd"))).is_err());
    }
}
