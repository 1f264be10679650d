//! Opaque keyset page tokens: where the last page ended (a time and an id)
//! and a tag of the query they belong to, so a token used with another
//! query is refused. Not secret: a forged one only names a position.
use sha2::{Digest as _, Sha256};

use super::DomainError;
use super::clock::EpochMillis;

/// Page size when a request names none.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Largest page; larger requests are clamped.
pub const MAX_PAGE_SIZE: u64 = 1000;

/// A position in a (time, id) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// The time of the last item seen.
    pub at: EpochMillis,
    /// Its id, which breaks ties.
    pub id: uuid::Uuid,
}

/// The page size a request asks for, defaulted and clamped.
pub fn page_size(requested: i32) -> Result<u64, DomainError> {
    match u64::try_from(requested) {
        Ok(0) => Ok(DEFAULT_PAGE_SIZE),
        Ok(size) => Ok(size.min(MAX_PAGE_SIZE)),
        Err(_) => Err(DomainError::invalid("page_size", "must not be negative")),
    }
}

/// The first 8 bytes of a SHA-256 of the query parts a token is bound to.
pub fn query_tag(parts: &[&[u8]]) -> [u8; 8] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut tag = [0u8; 8];
    tag.copy_from_slice(&digest[..8]);
    tag
}

const VERSION: u8 = 1;
const LENGTH: usize = 1 + 8 + 16 + 8;

/// `version | time | id | query tag`, base64url without padding.
pub fn encode(position: Position, tag: [u8; 8]) -> String {
    let mut bytes = Vec::with_capacity(LENGTH);
    bytes.push(VERSION);
    bytes.extend_from_slice(&position.at.0.to_be_bytes());
    bytes.extend_from_slice(position.id.as_bytes());
    bytes.extend_from_slice(&tag);
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}

/// The position of a token issued for the query tagged `tag`; empty is
/// the first page.
pub fn decode(token: &str, tag: [u8; 8]) -> Result<Option<Position>, DomainError> {
    if token.is_empty() {
        return Ok(None);
    }
    let malformed = || DomainError::invalid("page_token", "is not a token this server issued");
    let bytes = data_encoding::BASE64URL_NOPAD
        .decode(token.as_bytes())
        .map_err(|_| malformed())?;
    if bytes.len() != LENGTH || bytes[0] != VERSION {
        return Err(malformed());
    }
    if bytes[25..] != tag {
        return Err(DomainError::invalid(
            "page_token",
            "was issued for a different query; start again without a token",
        ));
    }
    let at = i64::from_be_bytes(bytes[1..9].try_into().map_err(|_| malformed())?);
    let id = uuid::Uuid::from_slice(&bytes[9..25]).map_err(|_| malformed())?;
    Ok(Some(Position {
        at: EpochMillis(at),
        id,
    }))
}

/// Cuts a page read with one row more than `limit` back to `limit`, and
/// returns the token of the page after it: empty when that extra row was
/// not there (this is the last page).
pub fn finish_page<T>(
    items: &mut Vec<T>,
    limit: u64,
    tag: [u8; 8],
    position_of: impl Fn(&T) -> Position,
) -> String {
    if items.len() as u64 <= limit {
        return String::new();
    }
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    items
        .last()
        .map_or_else(String::new, |last| encode(position_of(last), tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_query() {
        let position = Position {
            at: EpochMillis(1_800_000_000_123),
            id: uuid::Uuid::now_v7(),
        };
        let tag = query_tag(&[b"username == \"a\"", b"0"]);
        let token = encode(position, tag);

        assert_eq!(decode(&token, tag).unwrap(), Some(position));
        assert_eq!(decode("", tag).unwrap(), None);
        assert!(decode(&token, query_tag(&[b"username == \"b\"", b"0"])).is_err());
        assert!(decode(&token, query_tag(&[b"username == \"a\"", b"1"])).is_err());
        for garbage in ["abc", "!!!!", &token[1..]] {
            assert!(decode(garbage, tag).is_err(), "{garbage}");
        }
    }

    #[test]
    fn page_sizes_default_and_clamp() {
        assert_eq!(page_size(0).unwrap(), 50);
        assert_eq!(page_size(5000).unwrap(), 1000);
        assert!(page_size(-1).is_err());
    }
}
