//! The route table: one route per `google.api.http` binding of every unary
//! RPC in the pool, with everything a request needs resolved at start-up.

use std::str::FromStr;

use http::{Method, Uri};
use prost_reflect::{
    DescriptorPool, DynamicMessage, ExtensionDescriptor, FieldDescriptor, MethodDescriptor, Value,
};

use crate::errors::GatewayError;
use crate::json::{JsonCodec, Shape, ValuePlan, WellKnown};
use crate::template::{PathTemplate, RequestPath, Segment};

/// Where the request body goes.
#[derive(Debug, Clone)]
pub(crate) enum BodyRule {
    /// No body: every field comes from the path or the query string.
    None,
    /// `body: "*"`: the body is the whole request message.
    Whole,
    /// `body: "field"`: the body is this top-level field (index in the
    /// input plan's fields).
    Field(usize),
}

/// A request field bound by a path variable.
#[derive(Debug, Clone)]
pub(crate) struct PathBinding {
    /// Field descriptors from the request message down to the bound field.
    pub(crate) fields: Vec<FieldDescriptor>,
    /// The value type of the bound field.
    pub(crate) value: ValuePlan,
    /// The field path as written in the template (`user.name`).
    pub(crate) display: String,
}

/// One REST binding of one RPC.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) http_method: Method,
    pub(crate) template_text: String,
    pub(crate) template: PathTemplate,
    pub(crate) method: MethodDescriptor,
    /// `/package.Service/Method`, ready to clone into each gRPC request.
    pub(crate) grpc_uri: Uri,
    pub(crate) input_plan: usize,
    pub(crate) output_plan: usize,
    /// Parallel to `template.variables`.
    pub(crate) path_bindings: Vec<PathBinding>,
    pub(crate) body: BodyRule,
    /// `response_body`: index of the output field to render instead of the whole message.
    pub(crate) response_body: Option<usize>,
    /// AIP-134: on PATCH with `body: "field"`, an absent or empty
    /// `update_mask` (a top-level FieldMask) is filled with the fields
    /// present in the JSON body.
    pub(crate) implied_update_mask: Option<usize>,
    /// 0 for the main binding, then 1.. for each `additional_bindings` entry.
    pub(crate) binding_index: usize,
}

/// The outcome of looking a request up in the table.
#[derive(Debug)]
pub(crate) enum RouteMatch<'r> {
    Found(&'r Route),
    /// The path exists, but not for this method.
    MethodNotAllowed(Vec<Method>),
    NotFound,
}

/// All routes, ordered from the most specific template down.
#[derive(Debug)]
pub(crate) struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    pub(crate) fn build(
        pool: &DescriptorPool,
        codec: &JsonCodec,
    ) -> Result<RouteTable, GatewayError> {
        let mut routes = Vec::new();
        if let Some(http_extension) = pool.get_extension_by_name("google.api.http") {
            for service in pool.services() {
                for method in service.methods() {
                    add_method_routes(codec, &http_extension, &method, &mut routes)?;
                }
            }
        }
        // A stable sort keeps declaration order among equally specific
        // templates, so the first binding written wins a tie.
        routes.sort_by(|left, right| {
            right
                .template
                .specificity()
                .cmp(&left.template.specificity())
        });
        for (index, route) in routes.iter().enumerate() {
            if let Some(earlier) = routes[..index].iter().find(|earlier| {
                earlier.http_method == route.http_method
                    && same_shape(&earlier.template, &route.template)
            }) {
                tracing::warn!(
                    shadowed = %route.method.full_name(),
                    template = %route.template_text,
                    by = %earlier.method.full_name(),
                    "REST binding is unreachable: an earlier binding has the same method and path"
                );
            }
        }
        Ok(RouteTable { routes })
    }

    pub(crate) fn len(&self) -> usize {
        self.routes.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    /// Finds the most specific route for the method and path. Tries each
    /// route in order without allocating; only a miss walks the table again
    /// to tell 405 from 404.
    pub(crate) fn find(&self, method: &Method, path: &RequestPath<'_>) -> RouteMatch<'_> {
        if let Some(route) = self
            .routes
            .iter()
            .find(|route| route.http_method == *method && route.template.matches(path))
        {
            return RouteMatch::Found(route);
        }
        let mut allowed: Vec<Method> = Vec::new();
        for route in &self.routes {
            if !allowed.contains(&route.http_method) && route.template.matches(path) {
                allowed.push(route.http_method.clone());
            }
        }
        if allowed.is_empty() {
            RouteMatch::NotFound
        } else {
            RouteMatch::MethodNotAllowed(allowed)
        }
    }
}

/// Two templates that match exactly the same paths.
pub(crate) fn same_shape(left: &PathTemplate, right: &PathTemplate) -> bool {
    left.segments == right.segments && left.verb == right.verb
}

fn add_method_routes(
    codec: &JsonCodec,
    http_extension: &ExtensionDescriptor,
    method: &MethodDescriptor,
    routes: &mut Vec<Route>,
) -> Result<(), GatewayError> {
    let options = method.options();
    if !options.has_extension(http_extension) {
        return Ok(());
    }
    let rule = options.get_extension(http_extension);
    let Some(rule) = rule.as_message() else {
        return Ok(());
    };
    if method.is_client_streaming() || method.is_server_streaming() {
        tracing::warn!(
            method = %method.full_name(),
            "skipping REST bindings of a streaming RPC: the gateway transcodes unary calls only"
        );
        return Ok(());
    }
    let mut rules = vec![rule.clone()];
    if let Some(additional) = rule.get_field_by_name("additional_bindings") {
        rules.extend(
            additional
                .as_list()
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_message)
                .cloned(),
        );
    }
    for (binding_index, rule) in rules.iter().enumerate() {
        routes.push(build_route(codec, method, rule, binding_index)?);
    }
    Ok(())
}

fn string_field(message: &DynamicMessage, name: &str) -> String {
    message
        .get_field_by_name(name)
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn build_route(
    codec: &JsonCodec,
    method: &MethodDescriptor,
    rule: &DynamicMessage,
    binding_index: usize,
) -> Result<Route, GatewayError> {
    let invalid = |reason: String| GatewayError::InvalidBinding {
        method: method.full_name().to_owned(),
        reason,
    };
    let (http_method, template_text) = rule_pattern(rule).ok_or_else(|| {
        invalid(format!(
            "binding {binding_index} has no HTTP method and path (get, put, post, delete, patch or custom)"
        ))
    })?;
    let template =
        PathTemplate::parse(&template_text).map_err(|reason| GatewayError::InvalidTemplate {
            method: method.full_name().to_owned(),
            template: template_text.clone(),
            reason,
        })?;
    let input_plan = codec
        .plan_index(&method.input())
        .ok_or_else(|| invalid("request type is missing from the pool".to_owned()))?;
    let output_plan = codec
        .plan_index(&method.output())
        .ok_or_else(|| invalid("response type is missing from the pool".to_owned()))?;

    let mut path_bindings = Vec::with_capacity(template.variables.len());
    for variable in &template.variables {
        let binding = resolve_path_binding(codec, input_plan, &variable.field_path)
            .map_err(|reason| invalid(format!("template {template_text:?}: {reason}")))?;
        let multi_segment = variable.end - variable.start > 1
            || template.segments[variable.start..variable.end]
                .iter()
                .any(|segment| *segment != Segment::Single);
        if multi_segment && !matches!(binding.value, ValuePlan::String) {
            return Err(invalid(format!(
                "template {template_text:?}: {} binds several path segments, so it must be a string field",
                binding.display
            )));
        }
        path_bindings.push(binding);
    }

    let body_text = string_field(rule, "body");
    let body = match body_text.as_str() {
        "" => BodyRule::None,
        "*" => BodyRule::Whole,
        name => {
            let (index, _) = codec
                .message(input_plan)
                .field_by_name(name)
                .filter(|(_, field)| field.descriptor.name() == name)
                .ok_or_else(|| {
                    invalid(format!(
                        "body {name:?} is not a top-level field of {}",
                        method.input().full_name()
                    ))
                })?;
            BodyRule::Field(index)
        }
    };

    let response_body_text = string_field(rule, "response_body");
    let response_body = match response_body_text.as_str() {
        "" => None,
        name => Some(
            codec
                .message(output_plan)
                .field_by_name(name)
                .filter(|(_, field)| field.descriptor.name() == name)
                .map(|(index, _)| index)
                .ok_or_else(|| {
                    invalid(format!(
                        "response_body {name:?} is not a top-level field of {}",
                        method.output().full_name()
                    ))
                })?,
        ),
    };

    let implied_update_mask = match body {
        BodyRule::Field(body_index) if http_method == Method::PATCH => {
            implied_update_mask_field(codec, input_plan, body_index)
        }
        _ => None,
    };

    let grpc_path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    let grpc_uri = Uri::from_str(&grpc_path)
        .map_err(|error| invalid(format!("gRPC path {grpc_path:?}: {error}")))?;

    Ok(Route {
        http_method,
        template_text,
        template,
        method: method.clone(),
        grpc_uri,
        input_plan,
        output_plan,
        path_bindings,
        body,
        response_body,
        implied_update_mask,
        binding_index,
    })
}

/// The HTTP method and path template of one `HttpRule`.
fn rule_pattern(rule: &DynamicMessage) -> Option<(Method, String)> {
    for (field, method) in [
        ("get", Method::GET),
        ("put", Method::PUT),
        ("post", Method::POST),
        ("delete", Method::DELETE),
        ("patch", Method::PATCH),
    ] {
        if rule.has_field_by_name(field) {
            return Some((method, string_field(rule, field)));
        }
    }
    let custom = rule.get_field_by_name("custom")?;
    let custom = custom.as_message()?;
    let kind = string_field(custom, "kind");
    let method = Method::from_bytes(kind.as_bytes()).ok()?;
    Some((method, string_field(custom, "path")))
}

/// Resolves `a.b.c` (proto field names) from the request message to a
/// singular field whose value can be written as text.
pub(crate) fn resolve_path_binding(
    codec: &JsonCodec,
    input_plan: usize,
    field_path: &[String],
) -> Result<PathBinding, String> {
    let display = field_path.join(".");
    let mut plan_index = input_plan;
    let mut fields = Vec::with_capacity(field_path.len());
    for (position, name) in field_path.iter().enumerate() {
        let plan = codec.message(plan_index);
        let Some((_, field)) = plan
            .field_by_name(name)
            .filter(|(_, field)| field.descriptor.name() == name)
        else {
            return Err(format!(
                "{display}: {} has no field {name:?}",
                plan.descriptor.full_name()
            ));
        };
        if !matches!(field.shape, Shape::Singular) {
            return Err(format!("{display}: {name:?} is repeated or a map"));
        }
        fields.push(field.descriptor.clone());
        let is_last = position + 1 == field_path.len();
        if is_last {
            if !codec.is_text_value(&field.value) {
                return Err(format!(
                    "{display}: a message field cannot be bound to a path"
                ));
            }
            return Ok(PathBinding {
                fields,
                value: field.value.clone(),
                display,
            });
        }
        match field.value {
            ValuePlan::Message(next) if codec.message(next).well_known.is_none() => {
                plan_index = next
            }
            _ => return Err(format!("{display}: {name:?} is not a message")),
        }
    }
    Err("empty field path".to_owned())
}

/// The top-level `update_mask` FieldMask of a PATCH request whose body is a
/// message field, if the request has one.
fn implied_update_mask_field(
    codec: &JsonCodec,
    input_plan: usize,
    body_index: usize,
) -> Option<usize> {
    let plan = codec.message(input_plan);
    let body_field = &plan.fields[body_index];
    let body_is_message = matches!(
        (&body_field.shape, &body_field.value),
        (Shape::Singular, ValuePlan::Message(index)) if codec.message(*index).well_known.is_none()
    );
    if !body_is_message {
        return None;
    }
    let (index, field) = plan
        .field_by_name("update_mask")
        .filter(|(_, field)| field.descriptor.name() == "update_mask")?;
    match (&field.shape, &field.value) {
        (Shape::Singular, ValuePlan::Message(mask))
            if codec.message(*mask).well_known == Some(WellKnown::FieldMask) =>
        {
            Some(index)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_pools::{accounts_codec, accounts_pool, library_codec, library_pool};

    fn route_for<'t>(
        table: &'t RouteTable,
        method: Method,
        path: &str,
    ) -> Option<(&'t Route, Vec<String>)> {
        let path = RequestPath::parse(path).unwrap();
        match table.find(&method, &path) {
            RouteMatch::Found(route) => Some((route, route.template.capture(&path).unwrap())),
            _ => None,
        }
    }

    #[test]
    fn user_lookups_pick_the_most_specific_binding() {
        let table = RouteTable::build(&accounts_pool(), &accounts_codec()).unwrap();

        let (me, values) = route_for(&table, Method::GET, "/v1/users/me").unwrap();
        assert_eq!(me.method.name(), "GetUser");
        assert_eq!(me.template_text, "/v1/users/me");
        assert!(values.is_empty());

        let (by_id, values) = route_for(
            &table,
            Method::GET,
            "/v1/users/0192f1a4-7c3e-7b1a-9c1d-2f3e4a5b6c7d",
        )
        .unwrap();
        assert_eq!(by_id.template_text, "/v1/users/{user_id}");
        assert_eq!(values, ["0192f1a4-7c3e-7b1a-9c1d-2f3e4a5b6c7d"]);

        let (by_email, values) =
            route_for(&table, Method::GET, "/v1/users/email/a+b:c@example.com").unwrap();
        assert_eq!(by_email.template_text, "/v1/users/email/{email}");
        assert_eq!(values, ["a+b:c@example.com"]);

        let (by_name, values) = route_for(&table, Method::GET, "/api/v1/users/ada").unwrap();
        assert_eq!(by_name.binding_index, 4);
        assert_eq!(values, ["users/ada"]);
        assert_eq!(
            by_name.grpc_uri.path(),
            "/gatewaytest.v1.UserService/GetUser"
        );
    }

    #[test]
    fn bindings_resolve_bodies_response_bodies_and_masks() {
        let codec = library_codec();
        let table = RouteTable::build(&library_pool(), &codec).unwrap();

        let (create, _) = route_for(&table, Method::POST, "/v1/shelves/s/books").unwrap();
        let BodyRule::Field(body) = create.body else {
            panic!("CreateBook has a field body");
        };
        assert_eq!(
            codec.message(create.input_plan).fields[body]
                .descriptor
                .name(),
            "book"
        );
        assert!(
            create.implied_update_mask.is_none(),
            "only PATCH implies a mask"
        );

        let (update, _) = route_for(&table, Method::PATCH, "/v1/shelves/s/books/b").unwrap();
        let mask = update
            .implied_update_mask
            .expect("UpdateBook has an update_mask");
        assert_eq!(
            codec.message(update.input_plan).fields[mask]
                .descriptor
                .name(),
            "update_mask"
        );
        assert_eq!(update.path_bindings[0].display, "book.name");
        assert_eq!(update.path_bindings[0].fields.len(), 2);

        let (name, _) = route_for(&table, Method::GET, "/v1/shelves/s/books/b/name").unwrap();
        let index = name.response_body.expect("GetBookName renders one field");
        assert_eq!(
            codec.message(name.output_plan).fields[index]
                .descriptor
                .name(),
            "name"
        );

        let (archive, _) =
            route_for(&table, Method::POST, "/v1/shelves/s/books/b:archive").unwrap();
        assert!(matches!(archive.body, BodyRule::Whole));
    }

    #[test]
    fn a_miss_tells_a_wrong_method_from_an_unknown_path() {
        let table = RouteTable::build(&library_pool(), &library_codec()).unwrap();
        let path = RequestPath::parse("/v1/books/abc").unwrap();
        match table.find(&Method::PUT, &path) {
            RouteMatch::MethodNotAllowed(allowed) => {
                assert_eq!(allowed, [Method::GET, Method::DELETE])
            }
            other => panic!("expected 405, got {other:?}"),
        }
        let path = RequestPath::parse("/v1/nothing/here").unwrap();
        assert!(matches!(
            table.find(&Method::GET, &path),
            RouteMatch::NotFound
        ));
    }
}
