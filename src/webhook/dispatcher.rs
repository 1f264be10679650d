//! The webhook dispatcher: claims due deliveries from the outbox, POSTs
//! them with Standard Webhooks headers, and records the outcome: delivered,
//! retried later with exponential backoff and jitter, or given up after the
//! last attempt. Every process sharing a database runs one; claims keep two
//! from sending the same delivery at once. Connections go through a
//! resolver that refuses private addresses again (DNS may have changed
//! since the webhook was saved), and redirects are not followed.
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::domain::clock::EpochMillis;
use crate::domain::webhook_target::{HostResolver as _, forbidden};
use crate::store::Store;
use crate::store::outbox::{AttemptOutcome, ClaimedDelivery};
use crate::telemetry::metrics::Metrics;

use super::resolver::SystemResolver;
use super::signature::sign;

/// How the dispatcher runs.
#[derive(Clone, Debug)]
pub struct DispatchSettings {
    /// Whether this process delivers at all.
    pub enabled: bool,
    /// How often it looks for due deliveries when nothing woke it.
    pub poll_interval: Duration,
    /// The delay before the first retry; each later one doubles it.
    pub retry_base: Duration,
    /// Attempts before giving up.
    pub max_attempts: i32,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Whether private targets are allowed (`--allow-private-webhooks`).
    pub allow_private: bool,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_interval: Duration::from_secs(1),
            retry_base: Duration::from_secs(5),
            max_attempts: 8,
            timeout: Duration::from_secs(10),
            allow_private: false,
        }
    }
}

/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Deliveries claimed at once.
const BATCH: u64 = 16;

/// Runs until the task is aborted.
pub async fn run(store: Store, settings: DispatchSettings, metrics: Arc<Metrics>) {
    if !settings.enabled {
        return;
    }
    let client = match client(&settings) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot build the webhook client; webhooks are not delivered");
            return;
        }
    };
    // A claim outlives any attempt, so it never lapses under a live one.
    let lease_millis = i64::try_from((settings.timeout * 3).as_millis()).unwrap_or(i64::MAX);
    loop {
        let claimed = match store
            .claim_deliveries(EpochMillis::now(), lease_millis, BATCH)
            .await
        {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "cannot claim webhook deliveries");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                () = store.outbox_signal().notified() => {}
                () = tokio::time::sleep(settings.poll_interval) => {}
            }
            continue;
        }
        let attempts = claimed.iter().map(|delivery| {
            let (client, store, settings, metrics) = (&client, &store, &settings, &metrics);
            async move {
                let outcome = attempt(client, settings, delivery).await;
                metrics.record_webhook_attempt(match outcome {
                    AttemptOutcome::Delivered => "delivered",
                    AttemptOutcome::RetryAt(..) => "retried",
                    AttemptOutcome::GiveUp(_) => "failed",
                });
                match &outcome {
                    AttemptOutcome::Delivered => {}
                    AttemptOutcome::RetryAt(_, error) | AttemptOutcome::GiveUp(error) => {
                        tracing::warn!(
                            event_id = %delivery.event_id,
                            webhook_id = %delivery.webhook_id,
                            attempt = delivery.attempt,
                            %error,
                            "webhook delivery failed"
                        );
                    }
                }
                if let Err(error) = store
                    .finish_delivery(delivery, &outcome, EpochMillis::now())
                    .await
                {
                    tracing::warn!(%error, "cannot record a webhook delivery");
                }
            }
        });
        futures_util::future::join_all(attempts).await;
    }
}

fn client(settings: &DispatchSettings) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(GuardedResolver {
            allow_private: settings.allow_private,
        }))
        .user_agent(concat!("roster-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// One POST, and what to do next.
async fn attempt(
    client: &reqwest::Client,
    settings: &DispatchSettings,
    delivery: &ClaimedDelivery,
) -> AttemptOutcome {
    let failed = |error: String| {
        if delivery.attempt >= settings.max_attempts {
            AttemptOutcome::GiveUp(error)
        } else {
            AttemptOutcome::RetryAt(retry_time(settings.retry_base, delivery.attempt), error)
        }
    };
    if !settings.allow_private
        && let Some(reason) = literal_private_target(&delivery.url)
    {
        return AttemptOutcome::GiveUp(reason);
    }
    let id = delivery.event_id.to_string();
    let timestamp = EpochMillis::now().0 / 1000;
    let body = delivery.payload.clone().into_bytes();
    let Some(signature) = sign(&delivery.secret, &id, timestamp, &body) else {
        return AttemptOutcome::GiveUp("the webhook's signing secret is malformed".to_owned());
    };
    let sent = client
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => AttemptOutcome::Delivered,
        Ok(response) => failed(format!(
            "the receiver answered HTTP {}",
            response.status().as_u16()
        )),
        Err(error) => failed(describe(&error)),
    }
}

/// Exponential backoff from `base`, doubled per attempt, capped, with
/// jitter (a random half to all of the delay) so retries spread out.
fn retry_time(base: Duration, attempt: i32) -> EpochMillis {
    let doublings = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let delay = base.saturating_mul(1 << doublings).min(MAX_BACKOFF);
    let jittered = delay.mul_f64(0.5 + rand::random::<f64>() / 2.0);
    EpochMillis(EpochMillis::now().0 + i64::try_from(jittered.as_millis()).unwrap_or(i64::MAX))
}

/// Why a URL whose host is an IP literal may not be called.
fn literal_private_target(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let address = match parsed.host()? {
        url::Host::Ipv4(address) => IpAddr::V4(address),
        url::Host::Ipv6(address) => IpAddr::V6(address),
        url::Host::Domain(_) => return None,
    };
    forbidden(address).map(|reason| format!("{address} is a {reason} address"))
}

fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.to_lowercase()
}

/// The system resolver, refusing host names that resolve to private
/// addresses: the check made at creation, made again on every connection.
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            // The resolver the check at creation uses, with its time bound.
            let addresses = SystemResolver.resolve(&host, 0).await?;
            let refused = addresses
                .iter()
                .find_map(|address| forbidden(*address).map(|reason| (*address, reason)));
            if let Some((address, reason)) = refused.filter(|_| !allow_private) {
                return Err(
                    format!("host {host} resolves to {address}, a {reason} address").into(),
                );
            }
            let sockets = addresses
                .into_iter()
                .map(|address| SocketAddr::new(address, 0));
            Ok(Box::new(sockets) as reqwest::dns::Addrs)
        })
    }
}
