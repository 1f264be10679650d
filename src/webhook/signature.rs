//! Standard Webhooks signatures: `v1,` and the base64 HMAC-SHA256 of
//! `{id}.{timestamp}.{body}`, keyed with the base64 part of the
//! `whsec_…` secret.
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use crate::domain::webhooks::SigningSecret;

/// The `webhook-signature` header value; `None` for a malformed secret.
pub fn sign(secret: &SigningSecret, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let encoded = secret.expose().strip_prefix("whsec_")?;
    let key = data_encoding::BASE64.decode(encoded.as_bytes()).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let signature = mac.finalize().into_bytes();
    Some(format!("v1,{}", data_encoding::BASE64.encode(&signature)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn the_specification_example_signs_as_published() {
        let secret =
            SigningSecret::from_storage("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned());
        let signature = sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signature.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }
}
