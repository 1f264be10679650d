//! Domain errors as gRPC statuses: one full match, no catch-all, so a new
//! error kind cannot be forgotten. Field errors carry a
//! `google.rpc.BadRequest` detail naming the field.
use std::time::Duration;

use prost::Message as _;
use tonic::{Code, Status};

use crate::domain::{DomainError, FieldViolations};
use crate::proto::google::rpc;

impl From<DomainError> for Status {
    fn from(error: DomainError) -> Self {
        let message = error.to_string();
        match error {
            DomainError::InvalidArgument(violations) => invalid_argument(&message, &violations),
            DomainError::Unauthenticated(_) => Status::unauthenticated(message),
            DomainError::PermissionDenied(_) => Status::permission_denied(message),
            DomainError::NotFound(_) => Status::not_found(message),
            DomainError::AlreadyExists(_) => Status::already_exists(message),
            DomainError::FailedPrecondition(_) => Status::failed_precondition(message),
            DomainError::Aborted(_) => Status::aborted(message),
            DomainError::ResourceExhausted { retry_after, .. } => {
                resource_exhausted(&message, retry_after)
            }
            DomainError::Unavailable(_) => Status::unavailable(message),
            DomainError::DeadlineExceeded(_) => Status::deadline_exceeded(message),
            DomainError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                Status::internal(message)
            }
        }
    }
}

/// INVALID_ARGUMENT with one `google.rpc.BadRequest` listing every violation.
fn invalid_argument(message: &str, violations: &FieldViolations) -> Status {
    let bad_request = rpc::BadRequest {
        field_violations: violations
            .all()
            .iter()
            .map(|violation| rpc::bad_request::FieldViolation {
                field: violation.field.clone(),
                description: violation.description.clone(),
                ..Default::default()
            })
            .collect(),
    };
    with_detail(
        Code::InvalidArgument,
        message,
        "type.googleapis.com/google.rpc.BadRequest",
        bad_request.encode_to_vec(),
    )
}

/// RESOURCE_EXHAUSTED with a `google.rpc.RetryInfo` saying when to retry.
fn resource_exhausted(message: &str, retry_after: Duration) -> Status {
    let retry_info = rpc::RetryInfo {
        retry_delay: Some(prost_types::Duration {
            seconds: i64::try_from(retry_after.as_secs()).unwrap_or(i64::MAX),
            nanos: i32::try_from(retry_after.subsec_nanos()).unwrap_or(0),
        }),
    };
    with_detail(
        Code::ResourceExhausted,
        message,
        "type.googleapis.com/google.rpc.RetryInfo",
        retry_info.encode_to_vec(),
    )
}

fn with_detail(code: Code, message: &str, type_url: &str, value: Vec<u8>) -> Status {
    let details = rpc::Status {
        code: code as i32,
        message: message.to_owned(),
        details: vec![prost_types::Any {
            type_url: type_url.to_owned(),
            value,
        }],
    };
    Status::with_details(code, message, details.encode_to_vec().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_carry_a_bad_request_detail() {
        let status = Status::from(DomainError::invalid("user_id", "must be a 16-byte uuid"));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "user_id: must be a 16-byte uuid");
        let details = rpc::Status::decode(status.details()).unwrap();
        let bad_request = rpc::BadRequest::decode(details.details[0].value.as_slice()).unwrap();
        assert_eq!(bad_request.field_violations[0].field, "user_id");
    }

    #[test]
    fn throttling_says_when_to_retry() {
        let status = Status::from(DomainError::ResourceExhausted {
            message: "too many failed sign-ins".to_owned(),
            retry_after: Duration::from_millis(1500),
        });
        assert_eq!(status.code(), Code::ResourceExhausted);
        let details = rpc::Status::decode(status.details()).unwrap();
        let retry = rpc::RetryInfo::decode(details.details[0].value.as_slice()).unwrap();
        let delay = retry.retry_delay.unwrap();
        assert_eq!((delay.seconds, delay.nanos), (1, 500_000_000));
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let status = Status::from(DomainError::Internal(anyhow::anyhow!(
            "SELECT secret FROM t"
        )));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }
}
