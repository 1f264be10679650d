//! `/metrics` in the format the scraper asks for. prometheus-client writes
//! only OpenMetrics; tools that send no `Accept` (curl, `promtool check
//! metrics`, older scrapers) expect the Prometheus text format 0.0.4, so the
//! OpenMetrics text is converted for them.
use axum::body::Body;
use http::{HeaderMap, HeaderValue, Response, header};

use crate::telemetry::metrics::Metrics;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The metrics as OpenMetrics when `Accept` lists
/// `application/openmetrics-text`, else as Prometheus text 0.0.4.
pub fn metrics_response(metrics: &Metrics, request_headers: &HeaderMap) -> Response<Body> {
    let openmetrics = metrics.render();
    let (content_type, text) = if accepts_openmetrics(request_headers) {
        (OPENMETRICS, openmetrics)
    } else {
        (PROMETHEUS_TEXT, to_prometheus_text(&openmetrics))
    };
    let mut response = Response::new(Body::from(text));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Whether some media range of `Accept` is OpenMetrics with a non-zero
/// quality. Prometheus lists it first whenever it can parse it.
fn accepts_openmetrics(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let is_openmetrics = parts
                .next()
                .is_some_and(|media| media.eq_ignore_ascii_case("application/openmetrics-text"));
            let refused = parts.any(|parameter| {
                parameter
                    .strip_prefix("q=")
                    .and_then(|quality| quality.parse::<f32>().ok())
                    .is_some_and(|quality| quality == 0.0)
            });
            is_openmetrics && !refused
        })
}

/// OpenMetrics text as Prometheus text 0.0.4, for the metric types we
/// register (counter, gauge, histogram): no `# EOF` or `# UNIT` lines, and
/// a counter's HELP and TYPE lines name it with `_total` like its samples,
/// since 0.0.4 has no family name apart from the sample name.
fn to_prometheus_text(openmetrics: &str) -> String {
    let mut text = String::with_capacity(openmetrics.len());
    // HELP comes before TYPE, which decides the name it needs.
    let mut pending_help: Option<&str> = None;
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(help) = line.strip_prefix("# HELP ") {
            flush_help(&mut text, pending_help.replace(help), "");
            continue;
        }
        if let Some(descriptor) = line.strip_prefix("# TYPE ") {
            let (name, kind) = descriptor.rsplit_once(' ').unwrap_or((descriptor, ""));
            let suffix = if kind == "counter" { "_total" } else { "" };
            flush_help(&mut text, pending_help.take(), suffix);
            for part in ["# TYPE ", name, suffix, " ", kind, "\n"] {
                text.push_str(part);
            }
            continue;
        }
        flush_help(&mut text, pending_help.take(), "");
        text.push_str(line);
        text.push('\n');
    }
    flush_help(&mut text, pending_help, "");
    text
}

/// Writes a HELP line (`name text`), the name given `suffix`.
fn flush_help(text: &mut String, help: Option<&str>, suffix: &str) {
    let Some(help) = help else {
        return;
    };
    let (name, description) = help.split_once(' ').unwrap_or((help, ""));
    for part in ["# HELP ", name, suffix, " ", description, "\n"] {
        text.push_str(part);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_becomes_prometheus_text() {
        let openmetrics = "\
# HELP calls Calls handled.
# TYPE calls counter
calls_total{code=\"OK\"} 3
# HELP up Whether it is up.
# TYPE up gauge
up 1
# HELP latency_seconds Latency.
# TYPE latency_seconds histogram
# UNIT latency_seconds seconds
latency_seconds_sum 0.5
latency_seconds_count 2
latency_seconds_bucket{le=\"+Inf\"} 2
# EOF
";

        let text = to_prometheus_text(openmetrics);

        assert_eq!(
            text,
            "\
# HELP calls_total Calls handled.
# TYPE calls_total counter
calls_total{code=\"OK\"} 3
# HELP up Whether it is up.
# TYPE up gauge
up 1
# HELP latency_seconds Latency.
# TYPE latency_seconds histogram
latency_seconds_sum 0.5
latency_seconds_count 2
latency_seconds_bucket{le=\"+Inf\"} 2
"
        );
    }

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn openmetrics_is_served_only_when_asked_for() {
        let prometheus_scrape = "application/openmetrics-text;version=1.0.0;q=0.5,\
            application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

        assert!(accepts_openmetrics(&accept(prometheus_scrape)));
        assert!(accepts_openmetrics(&accept("Application/OpenMetrics-Text")));
        assert!(!accepts_openmetrics(&HeaderMap::new()));
        assert!(!accepts_openmetrics(&accept("text/plain, */*")));
        assert!(!accepts_openmetrics(&accept(
            "application/openmetrics-text; q=0, text/plain"
        )));
    }

    #[test]
    fn the_response_names_its_format() {
        let metrics = Metrics::new();

        let text = metrics_response(&metrics, &HeaderMap::new());
        let openmetrics = metrics_response(&metrics, &accept("application/openmetrics-text"));

        assert_eq!(text.headers()[header::CONTENT_TYPE], PROMETHEUS_TEXT);
        assert_eq!(openmetrics.headers()[header::CONTENT_TYPE], OPENMETRICS);
    }
}
