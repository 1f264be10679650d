//! Domain errors as gRPC statuses: one full match, no catch-all, so a new
//! error kind cannot be forgotten. Field errors carry a
//! `google.rpc.BadRequest` detail naming the field.
use prost::Message as _;
use tonic::{Code, Status};

use crate::domain::{DomainError, FieldViolation};
use crate::proto::google::rpc;

impl From<DomainError> for Status {
    fn from(error: DomainError) -> Self {
        let message = error.to_string();
        match error {
            DomainError::InvalidArgument(violation) => invalid_argument(&message, violation),
            DomainError::Unauthenticated(_) => Status::unauthenticated(message),
            DomainError::PermissionDenied(_) => Status::permission_denied(message),
            DomainError::NotFound(_) => Status::not_found(message),
            DomainError::AlreadyExists(_) => Status::already_exists(message),
            DomainError::FailedPrecondition(_) => Status::failed_precondition(message),
            DomainError::Aborted(_) => Status::aborted(message),
            DomainError::Unavailable(_) => Status::unavailable(message),
            DomainError::DeadlineExceeded(_) => Status::deadline_exceeded(message),
            DomainError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                Status::internal(message)
            }
        }
    }
}

fn invalid_argument(message: &str, violation: FieldViolation) -> Status {
    let bad_request = rpc::BadRequest {
        field_violations: vec![rpc::bad_request::FieldViolation {
            field: violation.field,
            description: violation.description,
            ..Default::default()
        }],
    };
    let details = rpc::Status {
        code: Code::InvalidArgument as i32,
        message: message.to_owned(),
        details: vec![prost_types::Any {
            type_url: "type.googleapis.com/google.rpc.BadRequest".to_owned(),
            value: bad_request.encode_to_vec(),
        }],
    };
    Status::with_details(
        Code::InvalidArgument,
        message,
        details.encode_to_vec().into(),
    )
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
    fn internal_errors_hide_their_cause() {
        let status = Status::from(DomainError::Internal(anyhow::anyhow!(
            "SELECT secret FROM t"
        )));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }
}
