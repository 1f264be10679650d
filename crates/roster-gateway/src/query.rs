//! Query parameters: they fill the request fields that neither the path nor
//! the body binds. Names are field paths (`a.b`, either spelling per
//! segment); repeated fields take one parameter per element (`x=1&x=2`);
//! values are text as in [`crate::json::text`].

use prost_reflect::{DynamicMessage, FieldDescriptor, Value};

use crate::errors::{FieldViolation, RestError};
use crate::json::{JsonCodec, Shape, ValuePlan};
use crate::routes::{BodyRule, Route};

/// Applies every parameter of `query` (still URL-encoded) to `message`.
pub(crate) fn apply_query(
    codec: &JsonCodec,
    route: &Route,
    query: &str,
    message: &mut DynamicMessage,
) -> Result<(), RestError> {
    // Fields set once, so a second value for a singular field is caught.
    let mut singular_seen: Vec<String> = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        apply_parameter(codec, route, &name, &value, message, &mut singular_seen)?;
    }
    Ok(())
}

fn invalid(name: &str, description: String) -> RestError {
    RestError::invalid_field(
        format!("invalid query parameter {name:?}: {description}"),
        FieldViolation {
            field: name.to_owned(),
            description,
        },
    )
}

fn apply_parameter(
    codec: &JsonCodec,
    route: &Route,
    name: &str,
    text: &str,
    message: &mut DynamicMessage,
    singular_seen: &mut Vec<String>,
) -> Result<(), RestError> {
    if matches!(route.body, BodyRule::Whole) {
        return Err(invalid(
            name,
            "not accepted: the request body carries every field of this request".to_owned(),
        ));
    }
    let mut plan_index = route.input_plan;
    let mut path: Vec<FieldDescriptor> = Vec::new();
    let segments: Vec<&str> = name.split('.').collect();
    for (position, segment) in segments.iter().enumerate() {
        let plan = codec.message(plan_index);
        let Some((field_index, field)) = plan.field_by_name(segment) else {
            return Err(RestError::invalid_field(
                format!("unknown query parameter {name:?}"),
                FieldViolation {
                    field: name.to_owned(),
                    description: "unknown field".to_owned(),
                },
            ));
        };
        if position == 0
            && let BodyRule::Field(body_index) = route.body
            && body_index == field_index
        {
            return Err(invalid(
                name,
                "this field is carried by the request body".to_owned(),
            ));
        }
        path.push(field.descriptor.clone());
        let is_last = position + 1 == segments.len();
        if !is_last {
            match (&field.shape, &field.value) {
                (Shape::Singular, ValuePlan::Message(next))
                    if codec.message(*next).well_known.is_none() =>
                {
                    plan_index = *next;
                    continue;
                }
                _ => return Err(invalid(name, format!("{segment:?} has no subfields"))),
            }
        }
        if is_bound_by_path(route, &path) {
            return Err(invalid(
                name,
                "this field is bound by the URL path".to_owned(),
            ));
        }
        if !codec.is_text_value(&field.value) || matches!(field.shape, Shape::Map { .. }) {
            return Err(invalid(
                name,
                "this field cannot be set from the query string; set its subfields as name.subfield"
                    .to_owned(),
            ));
        }
        let value = codec
            .parse_text(&field.value, text)
            .map_err(|description| invalid(name, description))?;
        let target = nested_message_mut(message, &path[..path.len() - 1])
            .ok_or_else(|| RestError::internal("query parameter target is not a message"))?;
        let descriptor = &field.descriptor;
        if matches!(field.shape, Shape::Repeated) {
            match target.get_field_mut(descriptor).as_list_mut() {
                Some(list) => list.push(value),
                None => return Err(RestError::internal("repeated field is not a list")),
            }
        } else {
            let key = path
                .iter()
                .map(FieldDescriptor::name)
                .collect::<Vec<_>>()
                .join(".");
            if singular_seen.contains(&key) {
                return Err(invalid(
                    name,
                    "given more than once for a field that holds one value".to_owned(),
                ));
            }
            singular_seen.push(key);
            target
                .try_set_field(descriptor, value)
                .map_err(|error| invalid(name, error.to_string()))?;
        }
        return Ok(());
    }
    Err(invalid(name, "empty parameter name".to_owned()))
}

/// Whether a field path equals, contains or lies inside a path binding
/// (one is a prefix of the other).
fn is_bound_by_path(route: &Route, path: &[FieldDescriptor]) -> bool {
    route.path_bindings.iter().any(|binding| {
        let common = binding.fields.len().min(path.len());
        binding.fields[..common] == path[..common]
    })
}

/// The message reached by walking singular message fields, creating them as needed.
pub(crate) fn nested_message_mut<'m>(
    message: &'m mut DynamicMessage,
    fields: &[FieldDescriptor],
) -> Option<&'m mut DynamicMessage> {
    let mut current = message;
    for field in fields {
        current = current.get_field_mut(field).as_message_mut()?;
    }
    Some(current)
}

/// Sets `value` at the end of `fields`, creating the messages on the way.
pub(crate) fn set_nested(
    message: &mut DynamicMessage,
    fields: &[FieldDescriptor],
    value: Value,
) -> Result<(), String> {
    let (last, parents) = fields
        .split_last()
        .ok_or_else(|| "empty field path".to_owned())?;
    let target = nested_message_mut(message, parents)
        .ok_or_else(|| "field path crosses a non-message".to_owned())?;
    target
        .try_set_field(last, value)
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use http::Method;
    use prost_reflect::ReflectMessage as _;

    use super::*;
    use crate::routes::{RouteMatch, RouteTable};
    use crate::template::RequestPath;
    use crate::test_pools::{library_codec, library_pool};

    fn apply(method: Method, path: &str, query: &str) -> Result<DynamicMessage, RestError> {
        let codec = library_codec();
        let table = RouteTable::build(&library_pool(), &codec).unwrap();
        let request_path = RequestPath::parse(path).unwrap();
        let RouteMatch::Found(route) = table.find(&method, &request_path) else {
            panic!("{path} has a route");
        };
        let mut message = DynamicMessage::new(codec.message(route.input_plan).descriptor.clone());
        apply_query(&codec, route, query, &mut message)?;
        Ok(message)
    }

    #[test]
    fn nested_repeated_and_well_known_parameters_are_set() {
        let message = apply(
            Method::GET,
            "/v1/books:search",
            "filter.author=Le+Guin&tags=a&tags=b&read_mask=createTime,title&limit=7&views=FULL&views=1",
        )
        .unwrap();
        let filter = message.get_field_by_name("filter").unwrap();
        assert_eq!(
            filter
                .as_message()
                .unwrap()
                .get_field_by_name("author")
                .unwrap()
                .as_str(),
            Some("Le Guin"),
            "a + in a query string is a space"
        );
        assert_eq!(
            message
                .get_field_by_name("tags")
                .unwrap()
                .as_list()
                .unwrap(),
            &[Value::String("a".into()), Value::String("b".into())]
        );
        let mask = message.get_field_by_name("read_mask").unwrap();
        let paths = mask
            .as_message()
            .unwrap()
            .get_field_by_name("paths")
            .unwrap();
        assert_eq!(
            paths.as_list().unwrap(),
            &[
                Value::String("create_time".into()),
                Value::String("title".into())
            ]
        );
        let limit = message.get_field_by_name("limit").unwrap();
        assert_eq!(
            limit
                .as_message()
                .unwrap()
                .get_field_by_name("value")
                .unwrap()
                .as_i32(),
            Some(7)
        );
        assert_eq!(
            message
                .get_field_by_name("views")
                .unwrap()
                .as_list()
                .unwrap(),
            &[Value::EnumNumber(2), Value::EnumNumber(1)]
        );
    }

    #[test]
    fn an_empty_query_changes_nothing() {
        let message = apply(Method::GET, "/v1/books:search", "").unwrap();
        assert_eq!(
            message.fields().count(),
            0,
            "{}",
            message.descriptor().full_name()
        );
    }

    #[test]
    fn bound_and_unknown_fields_are_refused() {
        let error = apply(Method::GET, "/v1/shelves/s/books/b", "shelf.book.id=x").unwrap_err();
        assert_eq!(
            error.message,
            "invalid query parameter \"shelf.book.id\": this field is bound by the URL path"
        );
        let error = apply(Method::GET, "/v1/shelves/s/books/b", "shelf.colour=x").unwrap_err();
        assert_eq!(error.message, "unknown query parameter \"shelf.colour\"");
        let allowed = apply(
            Method::GET,
            "/v1/shelves/s/books/b",
            "includeNotes=true&view=BASIC",
        )
        .unwrap();
        assert_eq!(
            allowed
                .get_field_by_name("include_notes")
                .unwrap()
                .as_bool(),
            Some(true)
        );
    }
}
