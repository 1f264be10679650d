//! Operation ids: readable, stable names for generated client functions.
//!
//! The rule (also in the README):
//!
//! - The primary binding of an RPC is named by the method: `GetUser`.
//! - An additional binding appends what tells it apart from the primary:
//!   first its literal words the primary's path lacks (segments outside
//!   variables and the custom verb, as UpperCamelCase; a word that the
//!   method name already holds or that names a field this binding binds is
//!   left out), then `By` and the
//!   fields it binds that the primary does not (`user.name` → `UserName`,
//!   joined with `And`). So `/v1/users/email/{email}` is `GetUserByEmail`,
//!   `/v1/users/me` is `GetUserMe`, `/api/v1/{name=users/*}` is
//!   `GetUserApiByName` and `/api/v1/users` is `ListUsersApi`.
//! - A binding that differs only by its HTTP method appends that method
//!   (`GetBookDelete`).
//! - A method name found in more than one service is prefixed with the
//!   service name in all of them (`LibraryList`, `ShelfList`).
//! - Whatever still collides gets `_2`, `_3`, … in document order (services
//!   by full name, methods and bindings in declaration order), so the ids
//!   are unique and depend only on the protos.

use std::collections::{HashMap, HashSet};

use crate::template::{PathTemplate, Segment};

/// What names one binding.
#[derive(Debug, Clone)]
pub(super) struct Binding<'a> {
    /// The service's simple name, such as `UserService`.
    pub(super) service: String,
    /// The RPC's simple name, such as `GetUser`.
    pub(super) method: String,
    /// `GET`, `POST`, …
    pub(super) http_method: &'a str,
    pub(super) template: &'a PathTemplate,
    /// 0 for the primary binding.
    pub(super) binding_index: usize,
    /// The RPC's primary binding: its HTTP method and template.
    pub(super) primary: (&'a str, &'a PathTemplate),
}

/// One id per binding, in the order given (which must be document order).
pub(super) fn assign(bindings: &[Binding<'_>]) -> Vec<String> {
    let mut services_per_method: HashMap<&str, HashSet<&str>> = HashMap::new();
    for binding in bindings {
        services_per_method
            .entry(binding.method.as_str())
            .or_default()
            .insert(binding.service.as_str());
    }
    let mut taken: HashSet<String> = HashSet::new();
    bindings
        .iter()
        .map(|binding| {
            let shared_name = services_per_method[binding.method.as_str()].len() > 1;
            let base = if shared_name {
                format!("{}{}", binding.service, binding.method)
            } else {
                binding.method.clone()
            };
            let candidate = format!("{base}{}", suffix(binding));
            let mut id = candidate.clone();
            let mut counter = 2;
            while !taken.insert(id.clone()) {
                id = format!("{candidate}_{counter}");
                counter += 1;
            }
            id
        })
        .collect()
}

/// What an additional binding adds to the method's name; empty for the
/// primary binding.
fn suffix(binding: &Binding<'_>) -> String {
    if binding.binding_index == 0 {
        return String::new();
    }
    let (primary_method, primary) = binding.primary;
    let bound = bound_fields(binding.template);
    let primary_bound = bound_fields(primary);
    let primary_words: HashSet<String> = path_words(primary)
        .iter()
        .map(|word| word.to_ascii_lowercase())
        .collect();
    let method_words: HashSet<String> = split_camel(&binding.method)
        .into_iter()
        .map(|word| word.to_ascii_lowercase())
        .collect();
    let bound_words: HashSet<String> = bound
        .iter()
        .flat_map(|path| path.iter())
        .map(|name| upper_camel(name).to_ascii_lowercase())
        .collect();
    let mut text = String::new();
    for word in literal_words(binding.template) {
        let lower = word.to_ascii_lowercase();
        let camel = upper_camel(&word);
        if primary_words.contains(&lower)
            || method_words.contains(&lower)
            || bound_words.contains(&camel.to_ascii_lowercase())
        {
            continue;
        }
        text.push_str(&camel);
    }
    let new_fields: Vec<String> = bound
        .iter()
        .filter(|path| !primary_bound.contains(path))
        .map(|path| path.iter().map(|name| upper_camel(name)).collect())
        .collect();
    if !new_fields.is_empty() {
        text.push_str("By");
        text.push_str(&new_fields.join("And"));
    }
    if text.is_empty() && binding.http_method != primary_method {
        text = upper_camel(&binding.http_method.to_ascii_lowercase());
    }
    text
}

fn bound_fields(template: &PathTemplate) -> Vec<Vec<String>> {
    template
        .variables
        .iter()
        .map(|variable| variable.field_path.clone())
        .collect()
}

/// Every literal segment (inside variables too), then the custom verb.
fn path_words(template: &PathTemplate) -> Vec<String> {
    let mut words: Vec<String> = template
        .segments
        .iter()
        .filter_map(|segment| match segment {
            Segment::Literal(literal) => Some(literal.clone()),
            Segment::Single | Segment::Multi => None,
        })
        .collect();
    words.extend(template.verb.clone());
    words
}

/// The literal segments outside variables (those inside one are the
/// field's pattern, which `By<Field>` already names), then the custom verb.
fn literal_words(template: &PathTemplate) -> Vec<String> {
    let mut words: Vec<String> = template
        .segments
        .iter()
        .enumerate()
        .filter(|(index, _)| {
            !template
                .variables
                .iter()
                .any(|variable| (variable.start..variable.end).contains(index))
        })
        .filter_map(|(_, segment)| match segment {
            Segment::Literal(literal) => Some(literal.clone()),
            Segment::Single | Segment::Multi => None,
        })
        .collect();
    words.extend(template.verb.clone());
    words
}

/// `personalAccessTokens` → `PersonalAccessTokens`, `user_id` → `UserId`,
/// `v1` → `V1`: every run of letters and digits, its first letter upper.
fn upper_camel(text: &str) -> String {
    text.split(|character: char| !character.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut characters = part.chars();
            let first = characters.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(characters).collect::<String>()
        })
        .collect()
}

/// `GetInstanceSettings` → `Get`, `Instance`, `Settings`.
fn split_camel(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for character in name.chars() {
        match words.last_mut() {
            Some(word) if !character.is_ascii_uppercase() => word.push(character),
            _ => words.push(character.to_string()),
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(text: &str) -> PathTemplate {
        PathTemplate::parse(text).unwrap()
    }

    /// Ids of one RPC's bindings: `(http method, template)`, primary first.
    fn ids_of(service: &str, method: &str, bindings: &[(&str, &str)]) -> Vec<String> {
        let templates: Vec<PathTemplate> = bindings.iter().map(|(_, t)| template(t)).collect();
        let list: Vec<Binding<'_>> = bindings
            .iter()
            .zip(&templates)
            .enumerate()
            .map(|(index, ((http_method, _), template))| Binding {
                service: service.to_owned(),
                method: method.to_owned(),
                http_method,
                template,
                binding_index: index,
                primary: (bindings[0].0, &templates[0]),
            })
            .collect();
        assign(&list)
    }

    #[test]
    fn additional_bindings_are_named_by_what_they_add() {
        assert_eq!(
            ids_of(
                "UserService",
                "GetUser",
                &[
                    ("GET", "/v1/users/{user_id}"),
                    ("GET", "/v1/users/email/{email}"),
                    ("GET", "/v1/users/username/{username}"),
                    ("GET", "/v1/users/me"),
                    ("GET", "/api/v1/{name=users/*}"),
                ],
            ),
            [
                "GetUser",
                "GetUserByEmail",
                "GetUserByUsername",
                "GetUserMe",
                "GetUserApiByName"
            ]
        );
        assert_eq!(
            ids_of(
                "UserService",
                "ListUsers",
                &[("GET", "/v1/users"), ("GET", "/api/v1/users")]
            ),
            ["ListUsers", "ListUsersApi"]
        );
        assert_eq!(
            ids_of(
                "SystemService",
                "GetInstanceSettings",
                &[
                    ("GET", "/v1/system/settings"),
                    ("GET", "/api/v1/instance/settings")
                ]
            ),
            ["GetInstanceSettings", "GetInstanceSettingsApi"],
            "a word the method name holds adds nothing"
        );
        assert_eq!(
            ids_of(
                "Library",
                "UpdateBook",
                &[
                    ("PATCH", "/v1/{book.name=shelves/*/books/*}"),
                    ("PATCH", "/v2/{book.name=shelves/*/books/*}"),
                    ("PATCH", "/v2/shelves/{shelf.id}/books/{book_ref.id}:rename"),
                ]
            ),
            [
                "UpdateBook",
                "UpdateBookV2",
                "UpdateBookV2RenameByShelfIdAndBookRefId"
            ]
        );
    }

    #[test]
    fn bindings_that_differ_only_by_http_method_name_it() {
        assert_eq!(
            ids_of(
                "Library",
                "GetBook",
                &[
                    ("GET", "/v1/books/{book_id}"),
                    ("DELETE", "/v1/books/{book_id}")
                ]
            ),
            ["GetBook", "GetBookDelete"]
        );
    }

    #[test]
    fn ids_are_unique_even_when_the_rule_gives_one_name_twice() {
        let get = template("/v1/things/{id}");
        let same = template("/v1/things/{id}");
        let other = template("/v1/others/{id}");
        let binding = |service: &str, method: &str, template, binding_index, primary| Binding {
            service: service.to_owned(),
            method: method.to_owned(),
            http_method: "GET",
            template,
            binding_index,
            primary: ("GET", primary),
        };
        let bindings = [
            binding("Things", "List", &get, 0, &get),
            binding("Things", "List", &same, 1, &get),
            binding("Things", "List", &same, 2, &get),
            binding("Others", "List", &other, 0, &other),
            binding("Others", "Get", &other, 0, &other),
            binding("Others", "OthersList", &other, 0, &other),
        ];
        let ids = assign(&bindings);
        assert_eq!(
            ids,
            [
                "ThingsList",
                "ThingsList_2",
                "ThingsList_3",
                "OthersList",
                "Get",
                "OthersList_2"
            ]
        );
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        assert_eq!(assign(&bindings), ids, "the same input gives the same ids");
    }

    #[test]
    fn words_are_upper_camel_case() {
        assert_eq!(upper_camel("personalAccessTokens"), "PersonalAccessTokens");
        assert_eq!(upper_camel("user_id"), "UserId");
        assert_eq!(upper_camel("v1"), "V1");
        assert_eq!(upper_camel("get-stats.v2"), "GetStatsV2");
        assert_eq!(
            split_camel("GetInstanceSettings"),
            ["Get", "Instance", "Settings"]
        );
    }
}
