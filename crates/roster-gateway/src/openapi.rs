//! The OpenAPI 3.1 document, generated from the route table and the
//! descriptors, with the gateway's JSON rules reflected in the schemas.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use prost_reflect::{DescriptorPool, EnumDescriptor};
use serde_json::{Map, Value as Json, json};

use crate::GatewayConfig;
use crate::comments::Comments;
use crate::json::{FieldPlan, JsonCodec, Shape, ValuePlan, WellKnown, field_behavior};
use crate::routes::{BodyRule, Route, RouteTable, same_shape};
use crate::template::Segment;

const STATUS_SCHEMA: &str = "google.rpc.Status";
/// The HTTP methods an OpenAPI 3.1 path item can hold.
const OPENAPI_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
/// How deep query parameters descend into nested request messages.
const MAX_QUERY_DEPTH: usize = 4;

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
) -> Json {
    let comments = Comments::new(pool);
    let mut builder = Builder {
        codec,
        comments: &comments,
        schemas: BTreeMap::new(),
        pending_messages: Vec::new(),
        pending_enums: Vec::new(),
    };

    // Routes are matched most-specific first; document them in the order
    // they are declared, skipping bindings an earlier one makes unreachable.
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

    let mut paths: BTreeMap<String, Map<String, Json>> = BTreeMap::new();
    let mut shapes: HashMap<String, (String, Vec<String>)> = HashMap::new();
    let mut operation_ids: HashSet<String> = HashSet::new();
    let mut tags: BTreeMap<String, Json> = BTreeMap::new();
    for route in documented {
        let method_key = route.http_method.as_str().to_ascii_lowercase();
        if !OPENAPI_METHODS.contains(&method_key.as_str()) {
            // A `custom` binding (such as SEARCH) has no place in an
            // OpenAPI 3.1 path item; it is served but not documented.
            continue;
        }
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
        let operation = builder.operation(route, &path, &tag, &mut operation_ids);
        paths
            .entry(path.text.clone())
            .or_default()
            .insert(method_key, operation);
    }

    builder
        .schemas
        .insert(STATUS_SCHEMA.to_owned(), status_schema());
    builder.flush();

    let mut info = json!({
        "title": config.api_title,
        "version": config.api_version,
        "description": JSON_RULES,
    });
    if info["title"].as_str().is_some_and(str::is_empty) {
        info["title"] = json!("API");
    }
    json!({
        "openapi": "3.1.0",
        "info": info,
        "tags": tags.into_values().collect::<Vec<_>>(),
        "paths": paths,
        "components": { "schemas": builder.schemas },
    })
}

/// One path parameter of an OpenAPI path.
#[derive(Debug, Clone)]
struct PathParameter {
    name: String,
    description: String,
    schema: Json,
}

/// A route's template written the OpenAPI way: every `*` or `**` becomes a
/// `{parameter}`, since OpenAPI parameters cannot span a `/`.
#[derive(Debug, Clone)]
struct OpenApiPath {
    text: String,
    /// The path split around parameters: literal pieces, one more than parameters.
    pieces: Vec<String>,
    parameters: Vec<PathParameter>,
}

impl OpenApiPath {
    fn shape_key(&self) -> String {
        self.pieces.join("{}")
    }

    fn rename(&mut self, names: &[String]) {
        for (parameter, name) in self.parameters.iter_mut().zip(names) {
            parameter.name = name.clone();
        }
        self.text = self.render();
    }

    fn render(&self) -> String {
        let mut text = self.pieces[0].clone();
        for (parameter, piece) in self.parameters.iter().zip(&self.pieces[1..]) {
            text.push('{');
            text.push_str(&parameter.name);
            text.push('}');
            text.push_str(piece);
        }
        text
    }
}

fn openapi_path(route: &Route) -> OpenApiPath {
    let template = &route.template;
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut parameters: Vec<PathParameter> = Vec::new();
    let mut used_names: HashSet<String> = HashSet::new();
    for (index, segment) in template.segments.iter().enumerate() {
        current.push('/');
        let variable = template
            .variables
            .iter()
            .zip(&route.path_bindings)
            .find(|(variable, _)| (variable.start..variable.end).contains(&index));
        let literal = match segment {
            Segment::Literal(literal) => literal,
            Segment::Single | Segment::Multi => {
                let whole_field = variable.is_some_and(|(variable, _)| {
                    variable.end - variable.start == 1 && *segment == Segment::Single
                });
                let (base, description) = match variable {
                    Some((_, binding)) if whole_field => (
                        binding.display.clone(),
                        format!("The request field `{}`.", binding.display),
                    ),
                    Some((variable, binding)) => {
                        let previous = match index.checked_sub(1) {
                            Some(before) if before >= variable.start => {
                                match &template.segments[before] {
                                    Segment::Literal(literal) => Some(singular(literal)),
                                    _ => None,
                                }
                            }
                            _ => None,
                        };
                        let pattern =
                            pattern_text(&template.segments[variable.start..variable.end]);
                        let spans = if *segment == Segment::Multi {
                            " (this parameter may span several segments)"
                        } else {
                            ""
                        };
                        (
                            previous.unwrap_or_else(|| binding.display.replace('.', "_")),
                            format!(
                                "One segment of the request field `{}`, which the path binds as `{pattern}`{spans}.",
                                binding.display
                            ),
                        )
                    }
                    None => (
                        "segment".to_owned(),
                        "A path segment that is matched but not bound to a field.".to_owned(),
                    ),
                };
                let mut name = base.clone();
                let mut counter = 2;
                while !used_names.insert(name.clone()) {
                    name = format!("{base}_{counter}");
                    counter += 1;
                }
                // A whole-field parameter takes the field's schema later;
                // pieces of a resource name are plain strings.
                let schema = if whole_field {
                    Json::Null
                } else {
                    json!({ "type": "string" })
                };
                parameters.push(PathParameter {
                    name,
                    description,
                    schema,
                });
                pieces.push(std::mem::take(&mut current));
                continue;
            }
        };
        current.push_str(literal);
    }
    if let Some(verb) = &template.verb {
        current.push(':');
        current.push_str(verb);
    }
    pieces.push(current);
    let mut path = OpenApiPath {
        text: String::new(),
        pieces,
        parameters,
    };
    path.text = path.render();
    path
}

/// The first sentence of a comment's first paragraph, on one line.
fn summary(comment: &str) -> String {
    let paragraph = comment.split("\n\n").next().unwrap_or_default();
    let joined = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.find(". ") {
        Some(end) => joined[..=end].to_owned(),
        None => joined,
    }
}

/// `users` → `user`, `shelves` → `shelf`: the name of one item of a
/// collection segment, by the common English plural endings (these names
/// only label documentation parameters; matching never uses them).
fn singular(collection: &str) -> String {
    for (plural, single) in [
        ("ies", "y"),
        ("lves", "lf"),
        ("sses", "ss"),
        ("xes", "x"),
        ("ches", "ch"),
        ("shes", "sh"),
        ("s", ""),
    ] {
        if let Some(stem) = collection.strip_suffix(plural)
            && !stem.is_empty()
        {
            return format!("{stem}{single}");
        }
    }
    collection.to_owned()
}

fn pattern_text(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|segment| match segment {
            Segment::Literal(literal) => literal.clone(),
            Segment::Single => "*".to_owned(),
            Segment::Multi => "**".to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

struct Builder<'a> {
    codec: &'a JsonCodec,
    comments: &'a Comments,
    schemas: BTreeMap<String, Json>,
    pending_messages: Vec<usize>,
    pending_enums: Vec<EnumDescriptor>,
}

impl Builder<'_> {
    fn operation(
        &mut self,
        route: &Route,
        path: &OpenApiPath,
        tag: &str,
        operation_ids: &mut HashSet<String>,
    ) -> Json {
        let method = &route.method;
        let base_id = format!("{}_{}", method.parent_service().name(), method.name());
        let mut operation_id = if route.binding_index == 0 {
            base_id.clone()
        } else {
            format!("{base_id}_{}", route.binding_index + 1)
        };
        let mut counter = 2;
        while !operation_ids.insert(operation_id.clone()) {
            operation_id = format!("{base_id}_x{counter}");
            counter += 1;
        }

        let mut operation = Map::new();
        operation.insert("operationId".into(), json!(operation_id));
        operation.insert("tags".into(), json!([tag]));
        if let Some(comment) = self.comments.get(&method.parent_file(), method.path()) {
            operation.insert("summary".into(), json!(summary(comment)));
            operation.insert("description".into(), json!(comment));
        }

        let mut parameters = Vec::new();
        for (parameter, binding) in path.parameters.iter().zip(bindings_per_parameter(route)) {
            let schema = match (&parameter.schema, binding) {
                (Json::Null, Some(binding)) => self.value_schema(&binding.value),
                (Json::Null, None) => json!({ "type": "string" }),
                (schema, _) => schema.clone(),
            };
            parameters.push(json!({
                "name": parameter.name,
                "in": "path",
                "required": true,
                "description": parameter.description,
                "schema": schema,
            }));
        }
        if !matches!(route.body, BodyRule::Whole) {
            let mut query = Vec::new();
            let mut stack = vec![route.input_plan];
            self.query_parameters(
                route,
                route.input_plan,
                "",
                &mut Vec::new(),
                &mut stack,
                &mut query,
            );
            parameters.extend(query);
        }
        if !parameters.is_empty() {
            operation.insert("parameters".into(), Json::Array(parameters));
        }

        let input = self.codec.message(route.input_plan);
        let body_schema = match route.body {
            BodyRule::None => None,
            BodyRule::Whole => Some(self.message_schema_ref(route.input_plan)),
            BodyRule::Field(index) => Some(self.field_schema(&input.fields[index])),
        };
        if let Some(schema) = body_schema {
            operation.insert(
                "requestBody".into(),
                json!({
                    "required": false,
                    "description": "An empty body is an empty request.",
                    "content": { "application/json": { "schema": schema } },
                }),
            );
        }

        let output = self.codec.message(route.output_plan);
        let response_schema = match route.response_body {
            Some(index) => self.field_schema(&output.fields[index]),
            None => self.message_schema_ref(route.output_plan),
        };
        operation.insert(
            "responses".into(),
            json!({
                "200": {
                    "description": "OK",
                    "content": { "application/json": { "schema": response_schema } },
                },
                "default": {
                    "description": "An error: the HTTP status follows from the gRPC code by the google.rpc mapping.",
                    "content": { "application/json": { "schema": { "$ref": component_ref(STATUS_SCHEMA) } } },
                },
            }),
        );
        Json::Object(operation)
    }

    /// The request fields the query string may set: singular and repeated
    /// text values not bound by the path or the body, descending into plain
    /// nested messages.
    fn query_parameters(
        &mut self,
        route: &Route,
        plan_index: usize,
        prefix: &str,
        field_path: &mut Vec<prost_reflect::FieldDescriptor>,
        stack: &mut Vec<usize>,
        out: &mut Vec<Json>,
    ) {
        let codec = self.codec;
        for (index, field) in codec.message(plan_index).fields.iter().enumerate() {
            if field_path.is_empty() && matches!(route.body, BodyRule::Field(body) if body == index)
            {
                continue;
            }
            if field.has_behavior(field_behavior::OUTPUT_ONLY) {
                continue;
            }
            field_path.push(field.descriptor.clone());
            let bound = route.path_bindings.iter().any(|binding| {
                let common = binding.fields.len().min(field_path.len());
                binding.fields[..common] == field_path[..common]
            });
            let name = if prefix.is_empty() {
                field.json_name.clone()
            } else {
                format!("{prefix}.{}", field.json_name)
            };
            let nested = match (&field.shape, &field.value) {
                (Shape::Singular, ValuePlan::Message(next))
                    if codec.message(*next).well_known.is_none() =>
                {
                    Some(*next)
                }
                _ => None,
            };
            match nested {
                Some(next) if field_path.len() < MAX_QUERY_DEPTH && !stack.contains(&next) => {
                    stack.push(next);
                    self.query_parameters(route, next, &name, field_path, stack, out);
                    stack.pop();
                }
                Some(_) => {}
                None if !bound
                    && codec.is_text_value(&field.value)
                    && !matches!(field.shape, Shape::Map { .. }) =>
                {
                    let mut schema = self.value_schema(&field.value);
                    if matches!(field.shape, Shape::Repeated) {
                        schema = json!({ "type": "array", "items": schema });
                    }
                    let mut parameter = json!({
                        "name": name,
                        "in": "query",
                        "required": false,
                        "schema": schema,
                    });
                    if let Some(comment) = self.field_comment(field) {
                        parameter["description"] = json!(comment);
                    }
                    out.push(parameter);
                }
                None => {}
            }
            field_path.pop();
        }
    }

    fn field_comment(&self, field: &FieldPlan) -> Option<String> {
        self.comments
            .get(&field.descriptor.parent_file(), field.descriptor.path())
            .map(str::to_owned)
    }

    /// The schema of a field, as a property of its message.
    fn field_schema(&mut self, field: &FieldPlan) -> Json {
        let value = self.value_schema(&field.value);
        let mut schema = match &field.shape {
            Shape::Singular if field.has_presence => nullable(value),
            Shape::Singular => value,
            Shape::Repeated => json!({ "type": "array", "items": value }),
            Shape::Map { .. } => json!({ "type": "object", "additionalProperties": value }),
        };
        if let Some(comment) = self.field_comment(field) {
            // Keep the type's own note (such as "milliseconds since the
            // epoch") after the field's comment rather than replacing it.
            let description = match schema.get("description").and_then(Json::as_str) {
                Some(rule) => format!("{comment}\n\n{rule}"),
                None => comment,
            };
            schema["description"] = json!(description);
        }
        if field.has_behavior(field_behavior::OUTPUT_ONLY) {
            schema["readOnly"] = json!(true);
        }
        if field.has_behavior(field_behavior::INPUT_ONLY) {
            schema["writeOnly"] = json!(true);
        }
        schema
    }

    fn value_schema(&mut self, plan: &ValuePlan) -> Json {
        match plan {
            ValuePlan::Bool => json!({ "type": "boolean" }),
            ValuePlan::Int32 => json!({ "type": "integer", "format": "int32" }),
            ValuePlan::Uint32 => json!({ "type": "integer", "format": "uint32", "minimum": 0 }),
            ValuePlan::Int64 => json!({
                "type": "string", "format": "int64", "pattern": "^-?[0-9]+$",
                "description": "A 64-bit integer as a decimal string (a JSON number is accepted on input).",
            }),
            ValuePlan::Uint64 => json!({
                "type": "string", "format": "uint64", "pattern": "^[0-9]+$",
                "description": "A 64-bit unsigned integer as a decimal string (a JSON number is accepted on input).",
            }),
            ValuePlan::Float => json!({ "type": "number", "format": "float" }),
            ValuePlan::Double => json!({ "type": "number", "format": "double" }),
            ValuePlan::String => json!({ "type": "string" }),
            ValuePlan::Bytes => {
                json!({ "type": "string", "format": "byte", "contentEncoding": "base64" })
            }
            ValuePlan::Uuid => json!({
                "type": ["string", "null"], "format": "uuid",
                "description": "Canonical lowercase UUID text; null when empty (input also accepts the base64 of the 16 bytes).",
            }),
            ValuePlan::Enum(enum_descriptor) => {
                self.pending_enums.push(enum_descriptor.clone());
                json!({ "$ref": component_ref(enum_descriptor.full_name()) })
            }
            ValuePlan::NullValue => json!({ "type": "null" }),
            ValuePlan::Message(index) => self.message_schema_ref(*index),
        }
    }

    /// A `$ref` to a message's component schema, or the inline schema of a
    /// well-known type.
    fn message_schema_ref(&mut self, index: usize) -> Json {
        let plan = self.codec.message(index);
        match plan.well_known {
            Some(WellKnown::Timestamp) => json!({
                "type": "integer", "format": "int64",
                "description": "Milliseconds since the Unix epoch (input also accepts RFC 3339 text).",
            }),
            Some(WellKnown::Duration) => json!({
                "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$",
                "description": "A duration in seconds with an `s` suffix, such as `1.5s`.",
            }),
            Some(WellKnown::FieldMask) => json!({
                "type": "string",
                "description": "Comma-separated field paths, lowerCamelCase or snake_case.",
            }),
            Some(WellKnown::Empty) => json!({ "type": "object" }),
            Some(WellKnown::Struct) => json!({ "type": "object", "additionalProperties": true }),
            Some(WellKnown::Value) => json!({}),
            Some(WellKnown::ListValue) => json!({ "type": "array", "items": {} }),
            Some(WellKnown::Any) => any_schema(),
            Some(WellKnown::Wrapper) => {
                let inner = plan.fields[0].value.clone();
                nullable(self.value_schema(&inner))
            }
            None => {
                let name = plan.descriptor.full_name().to_owned();
                if !self.schemas.contains_key(&name) {
                    // Reserve the name now so recursive types terminate.
                    self.schemas.insert(name.clone(), Json::Null);
                    self.pending_messages.push(index);
                }
                json!({ "$ref": component_ref(&name) })
            }
        }
    }

    /// Builds the component schemas of every message and enum referenced so far.
    fn flush(&mut self) {
        loop {
            if let Some(index) = self.pending_messages.pop() {
                let schema = self.message_component(index);
                let name = self.codec.message(index).descriptor.full_name().to_owned();
                self.schemas.insert(name, schema);
            } else if let Some(enum_descriptor) = self.pending_enums.pop() {
                let name = enum_descriptor.full_name().to_owned();
                if !self.schemas.contains_key(&name) {
                    let schema = self.enum_component(&enum_descriptor);
                    self.schemas.insert(name, schema);
                }
            } else {
                return;
            }
        }
    }

    fn message_component(&mut self, index: usize) -> Json {
        let codec = self.codec;
        let plan = codec.message(index);
        let mut properties = Map::new();
        let mut required = BTreeSet::new();
        for field in &plan.fields {
            properties.insert(field.json_name.clone(), self.field_schema(field));
            if field.has_behavior(field_behavior::REQUIRED) {
                required.insert(field.json_name.clone());
            }
        }
        let mut schema = json!({
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
        });
        if !required.is_empty() {
            schema["required"] = json!(required);
        }
        let descriptor = &plan.descriptor;
        if let Some(comment) = self
            .comments
            .get(&descriptor.parent_file(), descriptor.path())
        {
            schema["description"] = json!(comment);
        }
        schema
    }

    fn enum_component(&self, enum_descriptor: &EnumDescriptor) -> Json {
        let names: Vec<String> = enum_descriptor
            .values()
            .map(|value| value.name().to_owned())
            .collect();
        let mut description = self
            .comments
            .get(&enum_descriptor.parent_file(), enum_descriptor.path())
            .map(|text| format!("{text}\n\n"))
            .unwrap_or_default();
        for value in enum_descriptor.values() {
            description.push_str(&format!("- `{}`", value.name()));
            if let Some(comment) = self.comments.get(&value.parent_file(), value.path()) {
                description.push_str(": ");
                description.push_str(&comment.replace('\n', " "));
            }
            description.push('\n');
        }
        json!({
            "type": "string",
            "enum": names,
            "description": description.trim_end(),
        })
    }
}

/// Which binding (if any) each OpenAPI path parameter of a route stands for.
fn bindings_per_parameter(route: &Route) -> Vec<Option<&crate::routes::PathBinding>> {
    let template = &route.template;
    template
        .segments
        .iter()
        .enumerate()
        .filter(|(_, segment)| !matches!(segment, Segment::Literal(_)))
        .map(|(index, _)| {
            template
                .variables
                .iter()
                .zip(&route.path_bindings)
                .find(|(variable, _)| (variable.start..variable.end).contains(&index))
                .map(|(_, binding)| binding)
        })
        .collect()
}

fn component_ref(name: &str) -> String {
    format!("#/components/schemas/{name}")
}

/// Allows `null` besides the schema: unset fields with presence print null.
fn nullable(schema: Json) -> Json {
    if schema.get("$ref").is_some() {
        return json!({ "anyOf": [schema, { "type": "null" }] });
    }
    let mut schema = schema;
    match schema.get("type").cloned() {
        Some(Json::String(kind)) => {
            schema["type"] = json!([kind, "null"]);
            schema
        }
        Some(Json::Array(mut kinds)) => {
            if !kinds.contains(&json!("null")) {
                kinds.push(json!("null"));
            }
            schema["type"] = Json::Array(kinds);
            schema
        }
        _ => schema,
    }
}

fn any_schema() -> Json {
    json!({
        "type": "object",
        "properties": { "@type": { "type": "string", "description": "The type URL of the message, such as `type.googleapis.com/google.rpc.BadRequest`." } },
        "required": ["@type"],
        "additionalProperties": true,
        "description": "A message of any type: its fields beside `@type`, or its JSON under `value` for a well-known type.",
    })
}

fn status_schema() -> Json {
    json!({
        "type": "object",
        "description": "The error body of every failed request: google.rpc.Status as JSON.",
        "properties": {
            "code": { "type": "integer", "format": "int32", "description": "The gRPC status code, such as 3 for INVALID_ARGUMENT." },
            "message": { "type": "string", "description": "A lowercase, specific description of the error." },
            "details": { "type": "array", "items": any_schema(), "description": "Machine-readable details, such as google.rpc.BadRequest." },
        },
        "required": ["code", "message", "details"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_the_first_sentence() {
        assert_eq!(
            summary("Retrieves one user. Lookup priority: `user_id`, then\n`email`."),
            "Retrieves one user."
        );
        assert_eq!(
            summary("Reads a book\nby id\n\nMore."),
            "Reads a book by id"
        );
    }

    #[test]
    fn collection_segments_name_one_item() {
        assert_eq!(singular("users"), "user");
        assert_eq!(singular("shelves"), "shelf");
        assert_eq!(singular("policies"), "policy");
        assert_eq!(singular("personalAccessTokens"), "personalAccessToken");
        assert_eq!(singular("settings"), "setting");
        assert_eq!(singular("data"), "data");
    }
}
