//! OpenAPI paths from route templates: every `*` or `**` becomes a
//! `{parameter}` named after the collection before it, since an OpenAPI
//! parameter cannot hold a `/`.

use std::collections::HashSet;

use crate::routes::{PathBinding, Route};
use crate::template::Segment;

/// One path parameter of an OpenAPI path.
#[derive(Debug, Clone)]
pub(super) struct PathParameter {
    pub(super) name: String,
    pub(super) description: String,
    /// The parameter is the whole bound field, so it takes the field's
    /// schema; a piece of a resource name is a plain string.
    pub(super) whole_field: bool,
}

/// A route's template written the OpenAPI way: every `*` or `**` becomes a
/// `{parameter}`, since OpenAPI parameters cannot span a `/`.
#[derive(Debug, Clone)]
pub(super) struct OpenApiPath {
    pub(super) text: String,
    /// The path split around parameters: literal pieces, one more than parameters.
    pub(super) pieces: Vec<String>,
    pub(super) parameters: Vec<PathParameter>,
}

impl OpenApiPath {
    pub(super) fn shape_key(&self) -> String {
        self.pieces.join("{}")
    }

    pub(super) fn rename(&mut self, names: &[String]) {
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

pub(super) fn openapi_path(route: &Route) -> OpenApiPath {
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
                parameters.push(PathParameter {
                    name,
                    description,
                    whole_field,
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

/// Which binding (if any) each OpenAPI path parameter of a route stands for.
pub(super) fn bindings_per_parameter(route: &Route) -> Vec<Option<&PathBinding>> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
