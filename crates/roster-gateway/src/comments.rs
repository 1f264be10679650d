//! Proto comments (from `source_code_info`, which the pool keeps) for the
//! OpenAPI descriptions.

use std::collections::HashMap;

use prost_reflect::{DescriptorPool, FileDescriptor};

/// Leading (else trailing) comments of every commented element, by file
/// and source path.
pub(crate) struct Comments {
    by_file: HashMap<String, HashMap<Vec<i32>, String>>,
}

impl Comments {
    pub(crate) fn new(pool: &DescriptorPool) -> Comments {
        let by_file = pool
            .files()
            .map(|file| (file.name().to_owned(), file_comments(&file)))
            .collect();
        Comments { by_file }
    }

    /// The comment of the element at `path` in `file`, if it has one.
    pub(crate) fn get(&self, file: &FileDescriptor, path: &[i32]) -> Option<&str> {
        self.by_file.get(file.name())?.get(path).map(String::as_str)
    }
}

fn file_comments(file: &FileDescriptor) -> HashMap<Vec<i32>, String> {
    let Some(info) = &file.file_descriptor_proto().source_code_info else {
        return HashMap::new();
    };
    info.location
        .iter()
        .filter_map(|location| {
            let raw = location
                .leading_comments
                .as_deref()
                .filter(|text| !text.trim().is_empty())
                .or(location.trailing_comments.as_deref())?;
            let text = clean(raw);
            (!text.is_empty()).then(|| (location.path.clone(), text))
        })
        .collect()
}

/// Drops the single space after `//` on each line and surrounding blank lines.
fn clean(raw: &str) -> String {
    raw.lines()
        .map(|line| line.strip_prefix(' ').unwrap_or(line).trim_end())
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_comment_indentation() {
        assert_eq!(
            clean(" First line.\n Second line.\n"),
            "First line.\nSecond line."
        );
        assert_eq!(clean("\n   indented code\n"), "indented code");
    }
}
