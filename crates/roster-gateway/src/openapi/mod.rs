//! The OpenAPI 3.1 document, generated from the route table and the
//! descriptors, with the gateway's JSON rules reflected in the schemas.

mod annotations;
mod operation_ids;
mod operations;
mod paths;
mod schemas;
mod security;

use std::collections::{BTreeMap, HashMap};

use prost_reflect::DescriptorPool;
use serde_json::{Map, Value as Json, json};

pub use security::{CredentialKind, SecurityScheme};

use crate::GatewayConfig;
use crate::comments::Comments;
use crate::errors::GatewayError;
use crate::json::JsonCodec;
use crate::json::{Shape, ValuePlan};
use crate::routes::{BodyRule, Route, RouteTable, same_shape};
use annotations::Annotations;
use operations::Operations;
use paths::openapi_path;
use schemas::{RequestRules, Schemas};

/// The HTTP methods an OpenAPI 3.1 path item can hold.
const OPENAPI_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

const JSON_RULES: &str = "JSON follows the proto3 JSON mapping: lowerCamelCase field names \
(the original proto names are accepted on input), enums by name, 64-bit integers as strings \
(numbers accepted on input), bytes as base64, and every field present on output (`null` for an \
unset message). Two rules differ from it: a `google.protobuf.Timestamp` is an integer number of \
milliseconds since the Unix epoch (input also accepts RFC 3339 text), and a UUID field is \
canonical lowercase UUID text (input also accepts the base64 of its 16 bytes); path and query \
parameters follow the same rules. Errors are `{\"code\", \"message\", \"details\"}` \
(google.rpc.Status as JSON).";

pub(crate) fn generate(
    pool: &DescriptorPool,
    codec: &JsonCodec,
    routes: &RouteTable,
    config: &GatewayConfig,
) -> Result<Json, GatewayError> {
    let comments = Comments::new(pool);
    let annotations = Annotations::new(pool, config)?;
    let documented = documented_routes(routes);
    let operation_ids = operation_ids::assign(&id_inputs(routes, &documented));
    let mut operations = Operations {
        schemas: Schemas::new(
            codec,
            &comments,
            &annotations,
            request_rules(codec, &documented),
        ),
        codec,
        comments: &comments,
        annotations: &annotations,
        security: &config.security_schemes,
    };

    let mut paths: BTreeMap<String, Map<String, Json>> = BTreeMap::new();
    let mut shapes: HashMap<String, (String, Vec<String>)> = HashMap::new();
    let mut tags: BTreeMap<String, Json> = BTreeMap::new();
    for (route, operation_id) in documented.iter().zip(operation_ids) {
        let service = route.method.parent_service();
        let tag = service.name().to_owned();
        tags.entry(tag.clone()).or_insert_with(|| {
            let mut entry = json!({ "name": tag });
            if let Some(text) = comments.get(&service.parent_file(), service.path()) {
                entry["description"] = json!(text);
            }
            entry
        });
        let mut path = openapi_path(route);
        // Templates that match the same URLs must share one OpenAPI path
        // (validators reject equivalent paths), so later ones take the
        // parameter names of the first.
        let shape = path.shape_key();
        match shapes.get(&shape) {
            Some((canonical, names)) => {
                path.rename(names);
                path.text = canonical.clone();
            }
            None => {
                let names = path.parameters.iter().map(|p| p.name.clone()).collect();
                shapes.insert(shape, (path.text.clone(), names));
            }
        }
        let operation = operations.operation(route, &path, &tag, operation_id);
        paths
            .entry(path.text.clone())
            .or_default()
            .insert(route.http_method.as_str().to_ascii_lowercase(), operation);
    }

    let mut info = json!({
        "title": config.api_title,
        "version": config.api_version,
        "description": JSON_RULES,
    });
    if info["title"].as_str().is_some_and(str::is_empty) {
        info["title"] = json!("API");
    }
    let mut components = json!({ "schemas": operations.schemas.finish() });
    let mut document = json!({
        "openapi": "3.1.0",
        "info": info,
        // Relative: the API is on the same origin as the document, so the
        // document works wherever it is served (any host, port or proxy)
        // without the server knowing the address clients use.
        "servers": [{ "url": "/", "description": "The server this document is served from." }],
        "tags": tags.into_values().collect::<Vec<_>>(),
        "paths": paths,
    });
    if !config.security_schemes.is_empty() {
        components["securitySchemes"] = security::components(&config.security_schemes);
        document["security"] = security::required(&config.security_schemes);
    }
    document["components"] = components;
    Ok(document)
}

/// The routes the document describes, in document order (services by full
/// name, then methods and bindings as declared): routes are matched
/// most-specific first, but read best in declaration order. Bindings an
/// earlier one makes unreachable, and `custom` ones whose method OpenAPI
/// cannot hold (such as SEARCH), are left out.
fn documented_routes(routes: &RouteTable) -> Vec<&Route> {
    let table: Vec<&Route> = routes.iter().collect();
    let mut documented: Vec<&Route> = table
        .iter()
        .enumerate()
        .filter(|(position, route)| {
            !table[..*position].iter().any(|earlier| {
                earlier.http_method == route.http_method
                    && same_shape(&earlier.template, &route.template)
            })
        })
        .map(|(_, route)| *route)
        .filter(|route| {
            let method = route.http_method.as_str().to_ascii_lowercase();
            OPENAPI_METHODS.contains(&method.as_str())
        })
        .collect();
    documented.sort_by(|left, right| {
        (
            left.method.parent_service().full_name(),
            left.method.index(),
            left.binding_index,
        )
            .cmp(&(
                right.method.parent_service().full_name(),
                right.method.index(),
                right.binding_index,
            ))
    });
    documented
}

/// What the operation-id rule reads of each documented route.
fn id_inputs<'a>(
    routes: &'a RouteTable,
    documented: &[&'a Route],
) -> Vec<operation_ids::Binding<'a>> {
    documented
        .iter()
        .map(|route| {
            // Every RPC with a rule has its primary binding in the table,
            // documented or not (a SEARCH one is not).
            let primary = routes
                .iter()
                .find(|other| {
                    other.binding_index == 0 && other.method.full_name() == route.method.full_name()
                })
                .unwrap_or(route);
            operation_ids::Binding {
                service: route.method.parent_service().name().to_owned(),
                method: route.method.name().to_owned(),
                http_method: route.http_method.as_str(),
                template: &route.template,
                binding_index: route.binding_index,
                primary: (primary.http_method.as_str(), &primary.template),
            }
        })
        .collect()
}

/// Which `REQUIRED` fields requests need not send; see [`RequestRules`].
fn request_rules(codec: &JsonCodec, documented: &[&Route]) -> RequestRules {
    let mut rules = RequestRules::default();
    for route in documented {
        match route.body {
            BodyRule::Whole => {
                let plan = codec.message(route.input_plan);
                for binding in &route.path_bindings {
                    if let [field] = binding.fields.as_slice()
                        && let Some(index) = plan.field_by_number(field.number())
                    {
                        rules.path_bound.insert((route.input_plan, index));
                    }
                }
            }
            BodyRule::Field(index) if route.implied_update_mask.is_some() => {
                let field = &codec.message(route.input_plan).fields[index];
                if let (Shape::Singular, ValuePlan::Message(body)) = (&field.shape, &field.value) {
                    rules.partial.insert(*body);
                }
            }
            BodyRule::Field(_) | BodyRule::None => {}
        }
    }
    rules
}
