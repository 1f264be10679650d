//! How a REST request becomes the gRPC request: body rules, query
//! parameters, the implied update mask, headers and extensions.

use axum::body::Body;
use http::HeaderValue;
use serde_json::json;

use crate::support::{ClientAddress, MAX_BODY_BYTES, TestApp, request};

const OWNER_UUID: &str = "0192f1a4-7c3e-7b1a-9c1d-2f3e4a5b6c7d";

#[tokio::test]
async fn a_field_body_fills_that_field_and_the_path_the_rest() {
    let app = TestApp::new();
    let book = app
        .send_json(
            "POST",
            &format!("/v1/shelves/s1/books?requestId={OWNER_UUID}"),
            r#"{"title": "Dune", "pages": 412, "create_time": 1732262400000, "labels": {"genre": "sf"}}"#,
        )
        .await
        .expect_ok();

    assert_eq!(book["title"], json!("Dune"));
    assert_eq!(book["pages"], json!(412));
    assert_eq!(book["createTime"], json!(1_732_262_400_000_i64));
    assert_eq!(book["labels"], json!({"genre": "sf"}));
    let call = app.last_call();
    assert_eq!(call.path, "/gatewaytest.v1.Library/CreateBook");
    assert_eq!(call.request["parent"], json!("shelves/s1"));
    assert_eq!(
        call.request["book"]["createTime"],
        json!("2024-11-22T08:00:00Z")
    );
    let request_id = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        uuid::Uuid::parse_str(OWNER_UUID).unwrap().as_bytes(),
    );
    assert_eq!(
        call.request["requestId"],
        json!(request_id),
        "uuid query parameters become 16 bytes"
    );
}

#[tokio::test]
async fn a_whole_body_is_the_request_and_path_variables_override_it() {
    let app = TestApp::new();
    let json = app
        .send_json(
            "POST",
            "/v1/shelves/s1/books/b1:archive",
            r#"{"name": "shelves/x/books/y", "reason": "worn", "archiveTime": "2024-11-22T09:00:00+01:00"}"#,
        )
        .await
        .expect_ok();
    assert_eq!(json["name"], json!("shelves/s1/books/b1"));
    assert_eq!(json["reason"], json!("worn"));
    assert_eq!(json["archiveTime"], json!(1_732_262_400_000_i64));
}

#[tokio::test]
async fn a_scalar_body_field_takes_a_bare_json_value() {
    let app = TestApp::new();
    let json = app
        .send_json("PUT", "/v1/shelves/s/books/b/title", r#""A new title""#)
        .await
        .expect_ok();
    assert_eq!(
        json,
        json!({"name": "shelves/s/books/b", "title": "A new title"})
    );

    let error = app
        .send_json("PUT", "/v1/shelves/s/books/b/title", "42")
        .await
        .expect_error(400, 3);
    assert_eq!(
        error["message"],
        json!("invalid value for title: expected a string")
    );
}

#[tokio::test]
async fn an_empty_body_is_an_empty_message_whatever_the_content_type() {
    let app = TestApp::new();
    let response = app
        .send(request(
            "POST",
            "/v1/shelves/s1/books/b1:archive",
            Body::empty(),
        ))
        .await;
    assert_eq!(response.expect_ok()["name"], json!("shelves/s1/books/b1"));

    let mut with_text_type = request("POST", "/v1/echo", Body::empty());
    with_text_type
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("text/plain"));
    app.send(with_text_type).await.expect_ok();
}

#[tokio::test]
async fn a_non_empty_body_must_be_json() {
    let app = TestApp::new();
    let mut plain = request("POST", "/v1/echo", Body::from("aString=x"));
    plain.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let json = app.send(plain).await.expect_error(415, 3);
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("application/json"),
        "{json}"
    );

    let untyped = app
        .send(request("POST", "/v1/echo", Body::from("{}")))
        .await;
    untyped.expect_error(415, 3);

    let mut with_charset = request("POST", "/v1/echo", Body::from(r#"{"aString": "x"}"#));
    with_charset.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    assert_eq!(
        app.send(with_charset).await.expect_ok()["aString"],
        json!("x")
    );
    assert_eq!(
        app.call_count(),
        1,
        "only the JSON request reached the service"
    );
}

#[tokio::test]
async fn invalid_json_is_400_with_the_position() {
    let app = TestApp::new();
    let json = app
        .send_json("POST", "/v1/echo", "{\n  \"aString\": \"x\",\n  oops\n}")
        .await
        .expect_error(400, 3);
    let message = json["message"].as_str().unwrap();
    assert!(
        message.starts_with("request body is not valid JSON"),
        "{message}"
    );
    assert!(message.contains("line 3 column 3"), "{message}");
}

#[tokio::test]
async fn unknown_body_fields_are_400_naming_field_and_place() {
    let app = TestApp::new();
    let json = app
        .send_json(
            "POST",
            "/v1/shelves/s1/books",
            r#"{"title": "T", "colour": "red"}"#,
        )
        .await
        .expect_error(400, 3);
    assert_eq!(json["message"], json!("unknown field \"colour\" in book"));
    assert_eq!(
        json["details"],
        json!([{
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": "book.colour", "description": "unknown field"}],
        }])
    );

    let json = app
        .send_json(
            "POST",
            "/v1/echo",
            r#"{"aBook": {"details": {"lang": "en"}}}"#,
        )
        .await
        .expect_error(400, 3);
    assert_eq!(
        json["message"],
        json!("unknown field \"lang\" in aBook.details")
    );
    assert_eq!(app.call_count(), 0);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = TestApp::new();
    let big = format!(r#"{{"aString": "{}"}}"#, "x".repeat(MAX_BODY_BYTES));
    app.send_json("POST", "/v1/echo", &big)
        .await
        .expect_error(413, 8);

    // Without a Content-Length the limit holds while reading.
    let chunks: Vec<bytes::Bytes> = big
        .as_bytes()
        .chunks(512)
        .map(bytes::Bytes::copy_from_slice)
        .collect();
    let mut streamed = request("POST", "/v1/echo", Body::new(ChunkedBody { chunks }));
    streamed
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    assert!(streamed.headers().get("content-length").is_none());
    app.send(streamed).await.expect_error(413, 8);

    let fits = format!(r#"{{"aString": "{}"}}"#, "x".repeat(MAX_BODY_BYTES - 20));
    app.send_json("POST", "/v1/echo", &fits).await.expect_ok();
}

/// A body of unknown length, sent chunk by chunk.
struct ChunkedBody {
    chunks: Vec<bytes::Bytes>,
}

impl http_body::Body for ChunkedBody {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        let next = (!self.chunks.is_empty()).then(|| self.chunks.remove(0));
        std::task::Poll::Ready(next.map(|chunk| Ok(http_body::Frame::data(chunk))))
    }
}

#[tokio::test]
async fn query_parameters_fill_every_kind_of_field() {
    let app = TestApp::new();
    let query = [
        "filter.author=Ursula%20K.%20Le%20Guin",
        "filter.language=en",
        "tags=a&tags=b%2Bc",
        "view=FULL",
        "views=BASIC&views=2",
        "readMask=title,create_time",
        "published_after=2024-11-22T08:00:00Z",
        &format!("ownerId={OWNER_UUID}"),
        "minPages=10",
        "minRating=4.5",
        "includeOutOfPrint=true",
        "limit=5",
        "shelfNumbers=1&shelfNumbers=18446744073709551615",
        "loanPeriod=1.5s",
        "cursor=AQI%3D",
        "weight=0.5",
        "copies=3",
    ]
    .join("&");
    let json = app
        .get(&format!("/v1/books:search?{query}"))
        .await
        .expect_ok();
    assert_eq!(
        json,
        json!({
            "filter": {"author": "Ursula K. Le Guin", "language": "en"},
            "tags": ["a", "b+c"],
            "view": "FULL",
            "readMask": "title,createTime",
            "publishedAfter": 1_732_262_400_000_i64,
            "ownerId": OWNER_UUID,
            "minPages": "10",
            "minRating": 4.5,
            "includeOutOfPrint": true,
            "limit": 5,
            "views": ["BASIC", "FULL"],
            "shelfNumbers": ["1", "18446744073709551615"],
            "loanPeriod": "1.500s",
            "cursor": "AQI=",
            "weight": 0.5,
            "copies": 3,
        })
    );
    assert_eq!(
        app.last_call().request["readMask"],
        json!("title,createTime")
    );

    let url_safe_base64 = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        uuid::Uuid::parse_str(OWNER_UUID).unwrap().as_bytes(),
    );
    let millis = app
        .get(&format!(
            "/v1/books:search?publishedAfter=1732262400000&ownerId={url_safe_base64}"
        ))
        .await
        .expect_ok();
    assert_eq!(millis["publishedAfter"], json!(1_732_262_400_000_i64));
    assert_eq!(
        millis["ownerId"],
        json!(OWNER_UUID),
        "base64 of the 16 bytes is accepted too"
    );
}

#[tokio::test]
async fn bad_query_parameters_are_400_naming_the_parameter() {
    let app = TestApp::new();
    let cases = [
        ("/v1/books:search?foo=1", "unknown query parameter \"foo\""),
        (
            "/v1/books:search?filter.colour=red",
            "unknown query parameter \"filter.colour\"",
        ),
        (
            "/v1/books:search?minPages=ten",
            "invalid query parameter \"minPages\": expected an integer, got \"ten\"",
        ),
        (
            "/v1/books:search?view=SIDEWAYS",
            "invalid query parameter \"view\": unknown value \"SIDEWAYS\" for enum View; expected one of VIEW_UNSPECIFIED, BASIC, FULL",
        ),
        (
            "/v1/books:search?ownerId=nope",
            "invalid query parameter \"ownerId\": expected a UUID, got \"nope\"",
        ),
        (
            "/v1/books:search?copies=-1",
            "invalid query parameter \"copies\": expected an unsigned integer, got \"-1\"",
        ),
        (
            "/v1/books:search?view=FULL&view=BASIC",
            "invalid query parameter \"view\": given more than once for a field that holds one value",
        ),
        (
            "/v1/books:search?filter=x",
            "invalid query parameter \"filter\": this field cannot be set from the query string; set its subfields as name.subfield",
        ),
        (
            "/v1/books:search?tags.x=1",
            "invalid query parameter \"tags.x\": \"tags\" has no subfields",
        ),
        (
            "/v1/shelves/s1/books/b1?shelf.id=s2",
            "invalid query parameter \"shelf.id\": this field is bound by the URL path",
        ),
        (
            "/v1/shelves/s1/books?book.title=x",
            "invalid query parameter \"book.title\": this field is carried by the request body",
        ),
        (
            "/v1/echo?aString=x",
            "invalid query parameter \"aString\": not accepted: the request body carries every field of this request",
        ),
    ];
    for (uri, expected) in cases {
        let method = if uri.starts_with("/v1/echo") || uri.starts_with("/v1/shelves/s1/books?") {
            "POST"
        } else {
            "GET"
        };
        let response = app.send(request(method, uri, Body::empty())).await;
        let json = response.expect_error(400, 3);
        assert_eq!(json["message"], json!(expected), "{uri}");
    }
    assert_eq!(app.call_count(), 0);
}

#[tokio::test]
async fn a_patch_without_a_mask_updates_the_fields_in_the_body() {
    let app = TestApp::new();
    let json = app
        .send_json(
            "PATCH",
            "/v1/shelves/s/books/b",
            r#"{"name": "ignored", "etag": "e1", "title": "T", "details": {"language": "en"}, "labels": {}}"#,
        )
        .await
        .expect_ok();
    assert_eq!(
        json["book"]["name"],
        json!("shelves/s/books/b"),
        "the path addresses the book"
    );
    assert_eq!(
        json["book"]["etag"],
        json!("e1"),
        "etag still reaches the server as a guard"
    );
    assert_eq!(
        json["updateMask"],
        json!("details.language,labels,title"),
        "identifier and output-only fields are never in the implied mask"
    );

    let explicit = app
        .send_json(
            "PATCH",
            "/v1/shelves/s/books/b?updateMask=author",
            r#"{"title": "T"}"#,
        )
        .await
        .expect_ok();
    assert_eq!(
        explicit["updateMask"],
        json!("author"),
        "a given mask is kept"
    );

    let empty_body = app
        .send(request("PATCH", "/v1/shelves/s/books/b", Body::empty()))
        .await
        .expect_ok();
    assert_eq!(
        empty_body["updateMask"],
        json!(null),
        "no body, no implied mask"
    );
}

#[tokio::test]
async fn headers_and_extensions_reach_the_grpc_call() {
    let app = TestApp::new();
    let mut rest = request("GET", "/v1/books/favourite", Body::empty());
    let headers = rest.headers_mut();
    headers.insert("authorization", HeaderValue::from_static("Bearer gm_token"));
    headers.insert("x-api-key", HeaderValue::from_static("gm_key"));
    headers.insert("x-request-id", HeaderValue::from_static("req-1"));
    headers.insert("cookie", HeaderValue::from_static("session=secret"));
    rest.extensions_mut()
        .insert(ClientAddress("203.0.113.7:5555".to_owned()));

    app.send(rest).await.expect_ok();

    let call = app.last_call();
    assert_eq!(call.headers["authorization"], "Bearer gm_token");
    assert_eq!(call.headers["x-api-key"], "gm_key");
    assert_eq!(call.headers["x-request-id"], "req-1");
    assert!(
        call.headers.get("cookie").is_none(),
        "only configured headers are forwarded"
    );
    assert_eq!(call.headers["content-type"], "application/grpc");
    assert_eq!(call.headers["te"], "trailers");
    assert_eq!(call.version, http::Version::HTTP_2);
    assert_eq!(
        call.client_address,
        Some(ClientAddress("203.0.113.7:5555".to_owned()))
    );
}

/// A preflight that refuses calls without `x-api-key` and tags the ones it
/// admits, as a server's authentication would.
#[derive(Debug)]
struct KeyRequired;

impl roster_gateway::Preflight for KeyRequired {
    fn check<'a>(
        &'a self,
        grpc_path: &'a str,
        request: &'a mut http::request::Parts,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<(), tonic::Status>> + Send + 'a>> {
        Box::pin(async move {
            if !request.headers.contains_key("x-api-key") {
                return Err(tonic::Status::unauthenticated(format!(
                    "{grpc_path} needs a key"
                )));
            }
            request
                .extensions
                .insert(ClientAddress("admitted by preflight".to_owned()));
            Ok(())
        })
    }
}

#[tokio::test]
async fn the_preflight_refuses_before_the_body_is_read_and_its_extensions_travel() {
    let mut config = crate::support::config();
    config.preflight = Some(std::sync::Arc::new(KeyRequired));
    let app = TestApp::with_config(config);

    // Not even JSON: a refusal must come from the preflight, not the body.
    let refused = app
        .send_json("POST", "/v1/shelves/s1/books", "{not json")
        .await;
    let mut admitted_request = request(
        "POST",
        "/v1/shelves/s1/books",
        axum::body::Body::from(r#"{"title": "Dune"}"#),
    );
    admitted_request
        .headers_mut()
        .insert("x-api-key", "gm_key".parse().unwrap());
    admitted_request
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    let admitted = app.send(admitted_request).await;

    let body = refused.expect_error(401, 16);
    assert!(
        body["message"].as_str().unwrap().contains("needs a key"),
        "{body}"
    );
    admitted.expect_ok();
    assert_eq!(
        app.call_count(),
        1,
        "only the admitted request reached the service"
    );
    assert_eq!(
        app.last_call().client_address,
        Some(ClientAddress("admitted by preflight".to_owned()))
    );
}
