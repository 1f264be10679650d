//! Field-name spellings: FieldMask paths are snake_case inside protobuf and
//! lowerCamelCase in JSON.

/// `display_name.first_part` → `displayName.firstPart`.
pub(crate) fn snake_to_lower_camel(path: &str) -> String {
    let mut camel = String::with_capacity(path.len());
    let mut upper_next = false;
    for character in path.chars() {
        if character == '_' {
            upper_next = true;
        } else if upper_next {
            camel.extend(character.to_uppercase());
            upper_next = false;
        } else {
            camel.push(character);
        }
    }
    camel
}

/// `displayName.firstPart` → `display_name.first_part`; snake_case input is
/// returned unchanged.
pub(crate) fn lower_camel_to_snake(path: &str) -> String {
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

    #[test]
    fn converts_both_ways_per_segment() {
        assert_eq!(snake_to_lower_camel("display_name"), "displayName");
        assert_eq!(snake_to_lower_camel("user.avatar_url"), "user.avatarUrl");
        assert_eq!(lower_camel_to_snake("user.avatarUrl"), "user.avatar_url");
        assert_eq!(lower_camel_to_snake("display_name"), "display_name");
        assert_eq!(lower_camel_to_snake("labels.team"), "labels.team");
    }
}
