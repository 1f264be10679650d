//! The one gate every call passes, whatever its protocol, before its request
//! body is read: a deadline, then authentication. A method the method table
//! does not mark public (`(goodmem.v1.public)` in its proto) is refused with
//! `UNAUTHENTICATED` unless its credentials check out; the principal then
//! travels to the handler in the request extensions. So an RPC whose author
//! forgets authentication is still protected, and an unauthenticated client
//! cannot make the server buffer a request body it will refuse anyway.
//!
//! REST requests meet the same rules earlier, in the gateway's preflight
//! ([`GatePreflight`]), which runs before the gateway reads the JSON body;
//! the principal it finds rides along on the in-process call, so the gate
//! does not authenticate twice.
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use axum::body::Body;
use http::{Request, Response};

use super::call_origin::CallOrigin;
use super::methods::MethodTable;
use crate::auth::Authenticator;
use crate::domain::principal::Principal;
use crate::serve::ClientAborted;
use crate::telemetry::metrics::{Metrics, Protocol};

/// What the gate needs, shared by every call.
#[derive(Debug)]
pub struct GateRules {
    authenticator: Authenticator,
    methods: Arc<MethodTable>,
    longest_deadline: Duration,
}

impl GateRules {
    /// Rules over `methods`; every call's deadline is at most
    /// `longest_deadline`, shorter when the client's `grpc-timeout` says so.
    pub fn new(
        authenticator: Authenticator,
        methods: Arc<MethodTable>,
        longest_deadline: Duration,
    ) -> Self {
        Self {
            authenticator,
            methods,
            longest_deadline,
        }
    }

    /// When a call that starts now must be over: the client's
    /// `grpc-timeout` if shorter than the longest deadline.
    pub(crate) fn deadline_for(&self, headers: &http::HeaderMap) -> CallDeadline {
        let allowed = client_timeout(headers).map_or(self.longest_deadline, |asked| {
            asked.min(self.longest_deadline)
        });
        CallDeadline(Instant::now() + allowed)
    }

    fn is_public(&self, path: &str) -> bool {
        self.methods.get(path).is_some_and(|method| method.public)
    }

    /// Authenticates a non-public call unless a principal is already there,
    /// and records where a public one came from. A public call that carries
    /// credentials is authenticated too (CreateUser acts for its caller);
    /// bad ones are refused rather than ignored.
    pub(crate) async fn admit(
        &self,
        path: &str,
        parts_headers: &http::HeaderMap,
        uri: &http::Uri,
        extensions: &mut http::Extensions,
    ) -> Result<(), tonic::Status> {
        if self.is_public(path) {
            if extensions.get::<CallOrigin>().is_none() {
                let origin = CallOrigin::of(parts_headers, uri, extensions);
                extensions.insert(origin);
            }
            if extensions.get::<Principal>().is_none() && carries_credentials(parts_headers) {
                let principal = self.authenticator.authenticate(parts_headers).await?;
                extensions.insert(principal);
            }
            return Ok(());
        }
        if extensions.get::<Principal>().is_some() {
            return Ok(());
        }
        let principal = self.authenticator.authenticate(parts_headers).await?;
        extensions.insert(principal);
        Ok(())
    }
}

/// When a call must be over. The REST preflight sets it before reading the
/// body, so the deadline covers the whole REST request; the gate sets it for
/// gRPC calls, and keeps one it finds.
#[derive(Clone, Copy, Debug)]
pub struct CallDeadline(Instant);

impl CallDeadline {
    /// The instant the call must be over by.
    pub(crate) fn instant(self) -> Instant {
        self.0
    }

    pub(crate) fn exceeded(self) -> tonic::Status {
        tonic::Status::deadline_exceeded("the call did not finish within its deadline")
    }
}

/// The tower layer around the gRPC routes.
#[derive(Clone, Debug)]
pub struct GateLayer {
    rules: Arc<GateRules>,
}

impl GateLayer {
    /// A layer applying `rules`.
    pub fn new(rules: Arc<GateRules>) -> Self {
        Self { rules }
    }
}

impl<S> tower::Layer<S> for GateLayer {
    type Service = Gate<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Gate {
            inner,
            rules: self.rules.clone(),
        }
    }
}

/// See [`GateLayer`].
#[derive(Clone, Debug)]
pub struct Gate<S> {
    inner: S,
    rules: Arc<GateRules>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> tower::Service<Request<Body>> for Gate<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The clone that was polled ready serves this call; a fresh clone
        // waits for the next.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let rules = self.rules.clone();
        let deadline = match request.extensions().get::<CallDeadline>() {
            Some(deadline) => *deadline,
            None => rules.deadline_for(request.headers()),
        };
        let aborted = request.extensions().get::<ClientAborted>().cloned();
        Box::pin(async move {
            let call = async {
                let (mut parts, body) = request.into_parts();
                if let Err(status) = rules
                    .admit(
                        parts.uri.path(),
                        &parts.headers,
                        &parts.uri,
                        &mut parts.extensions,
                    )
                    .await
                {
                    return Ok(status.into_http());
                }
                inner.call(Request::from_parts(parts, body)).await
            };
            let response = match tokio::time::timeout_at(deadline.0, call).await {
                Ok(response) => response,
                Err(_elapsed) => Ok(deadline.exceeded().into_http()),
            };
            // Whatever tonic made of a body the client aborted, the call's
            // outcome is the client's cancellation.
            if aborted.is_some_and(|aborted| aborted.happened()) {
                return Ok(tonic::Status::cancelled("client cancelled the request").into_http());
            }
            response
        })
    }
}

/// The REST side of the gate: the gateway runs it before reading a body.
/// A call it refuses never reaches `api::calls`, so it is metered here,
/// as the same refusal is over gRPC.
#[derive(Debug)]
pub struct GatePreflight {
    rules: Arc<GateRules>,
    metrics: Arc<Metrics>,
}

impl GatePreflight {
    /// A preflight applying `rules`, counting refusals in `metrics`.
    pub fn new(rules: Arc<GateRules>, metrics: Arc<Metrics>) -> Self {
        Self { rules, metrics }
    }
}

impl roster_gateway::Preflight for GatePreflight {
    fn check<'a>(
        &'a self,
        grpc_path: &'a str,
        request: &'a mut http::request::Parts,
    ) -> Pin<Box<dyn Future<Output = Result<(), tonic::Status>> + Send + 'a>> {
        Box::pin(async move {
            let deadline = self.rules.deadline_for(&request.headers);
            request.extensions.insert(deadline);
            let admitted = self.rules.admit(
                grpc_path,
                &request.headers,
                &request.uri,
                &mut request.extensions,
            );
            let admitted = tokio::time::timeout_at(deadline.0, admitted)
                .await
                .unwrap_or_else(|_elapsed| Err(deadline.exceeded()));
            if let Err(status) = &admitted {
                let method = self.rules.methods.get(grpc_path);
                self.metrics
                    .start_call(
                        method,
                        Protocol::Rest,
                        &request.headers,
                        &request.extensions,
                        grpc_path,
                    )
                    .finish(status.code());
            }
            admitted
        })
    }
}

/// Whether the request sends a token in either header the service reads.
fn carries_credentials(headers: &http::HeaderMap) -> bool {
    headers.contains_key(http::header::AUTHORIZATION) || headers.contains_key("x-api-key")
}

/// The `grpc-timeout` header: up to 8 digits and a unit (H, M, S, m, u, n).
fn client_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    let text = headers.get("grpc-timeout")?.to_str().ok()?;
    if text.len() < 2 || text.len() > 9 {
        return None;
    }
    let (digits, unit) = text.split_at(text.len() - 1);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.saturating_mul(3600)),
        "M" => Duration::from_secs(amount.saturating_mul(60)),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout_of(value: &'static str) -> Option<Duration> {
        let mut headers = http::HeaderMap::new();
        headers.insert("grpc-timeout", value.parse().unwrap());
        client_timeout(&headers)
    }

    #[test]
    fn grpc_timeouts_are_read_in_every_unit() {
        assert_eq!(timeout_of("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(timeout_of("3M"), Some(Duration::from_secs(180)));
        assert_eq!(timeout_of("5S"), Some(Duration::from_secs(5)));
        assert_eq!(timeout_of("250m"), Some(Duration::from_millis(250)));
        assert_eq!(timeout_of("7u"), Some(Duration::from_micros(7)));
        assert_eq!(
            timeout_of("99999999n"),
            Some(Duration::from_nanos(99_999_999))
        );
    }

    #[test]
    fn malformed_grpc_timeouts_are_ignored() {
        for bad in ["", "S", "5", "5s", "123456789S", "-5S", "5 S"] {
            assert_eq!(timeout_of(bad), None, "{bad:?}");
        }
    }
}
