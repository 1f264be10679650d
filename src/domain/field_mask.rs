//! Update masks as the domain checks them: paths in proto (snake_case)
//! names, the camelCase JSON form accepted too.

use super::DomainError;

/// The paths of a request's `update_mask`, as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldMask(pub Vec<String>);

impl FieldMask {
    /// The paths in snake_case, each one of `allowed` or, where `allowed`
    /// holds `"labels"`, `labels.KEY`. An empty mask or an unknown path is
    /// `InvalidArgument` naming `field`.
    pub fn paths_within(&self, field: &str, allowed: &[&str]) -> Result<Vec<String>, DomainError> {
        if self.0.is_empty() {
            return Err(DomainError::invalid(
                field,
                format!("must name the fields to change: {}", allowed.join(", ")),
            ));
        }
        let mut paths = Vec::with_capacity(self.0.len());
        for raw in &self.0 {
            let path = snake_case(raw.trim());
            let known = allowed.contains(&path.as_str())
                || (allowed.contains(&"labels") && path.starts_with("labels."));
            if !known {
                return Err(DomainError::invalid(
                    field,
                    format!(
                        "unknown or read-only field {raw:?}; updatable: {}",
                        allowed.join(", ")
                    ),
                ));
            }
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        Ok(paths)
    }
}

/// `displayName` → `display_name`; a label key after `labels.` is kept as is.
fn snake_case(path: &str) -> String {
    if let Some(key) = path.strip_prefix("labels.") {
        return format!("labels.{key}");
    }
    let mut snake = String::with_capacity(path.len() + 4);
    for character in path.chars() {
        if character.is_ascii_uppercase() {
            snake.push('_');
            snake.push(character.to_ascii_lowercase());
        } else {
            snake.push(character);
        }
    }
    snake
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOWED: &[&str] = &["display_name", "email", "labels"];

    #[test]
    fn camel_and_snake_case_paths_are_accepted_once() {
        let mask = FieldMask(vec![
            "displayName".into(),
            "display_name".into(),
            "labels.team".into(),
        ]);
        assert_eq!(
            mask.paths_within("update_mask", ALLOWED).unwrap(),
            vec!["display_name".to_owned(), "labels.team".to_owned()]
        );
    }

    #[test]
    fn empty_masks_and_unknown_paths_are_refused() {
        assert!(
            FieldMask::default()
                .paths_within("update_mask", ALLOWED)
                .is_err()
        );
        let error = FieldMask(vec!["etag".into()])
            .paths_within("update_mask", ALLOWED)
            .unwrap_err();
        assert!(error.to_string().contains("\"etag\""), "{error}");
    }
}
