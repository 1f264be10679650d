//! What a memo's Markdown (GFM) contains, read once on every save: links,
//! code, task lists and unchecked tasks, and its `#tags`. Tags inside code
//! spans and code blocks are not tags; a `#` must start a word.
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Longest tag kept; longer ones are cut here, at a character boundary.
pub const MAX_TAG_CHARS: usize = 64;
/// Most tags kept per memo, in order of first use.
pub const MAX_TAGS: usize = 64;

/// The facts of one memo's content.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoFacts {
    /// A Markdown link, an autolink or a bare http(s) URL.
    pub has_link: bool,
    /// A code span or a code block.
    pub has_code: bool,
    /// A task list item.
    pub has_task_list: bool,
    /// An unchecked task list item.
    pub has_incomplete_tasks: bool,
    /// Distinct tags, in order of first use.
    pub tags: Vec<String>,
}

/// Reads the facts of `content`.
pub fn memo_facts(content: &str) -> MemoFacts {
    let mut facts = MemoFacts::default();
    let options = Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TABLES
        | Options::ENABLE_GFM;
    let mut code_block_depth = 0usize;
    for event in Parser::new_ext(content, options) {
        match event {
            Event::Start(Tag::Link { .. }) => facts.has_link = true,
            Event::Start(Tag::CodeBlock(_)) => {
                facts.has_code = true;
                code_block_depth += 1;
            }
            Event::End(TagEnd::CodeBlock) => code_block_depth = code_block_depth.saturating_sub(1),
            Event::Code(_) => facts.has_code = true,
            Event::TaskListMarker(checked) => {
                facts.has_task_list = true;
                facts.has_incomplete_tasks |= !checked;
            }
            Event::Text(text) if code_block_depth == 0 => {
                facts.has_link |= has_bare_url(&text);
                collect_tags(&text, &mut facts.tags);
            }
            _ => {}
        }
    }
    facts
}

/// GFM's extended autolinks: `http://`, `https://` or `www.` starting a word.
fn has_bare_url(text: &str) -> bool {
    text.split(|character: char| character.is_whitespace() || character == '(')
        .any(|word| {
            let rest = word
                .strip_prefix("https://")
                .or_else(|| word.strip_prefix("http://"))
                .or_else(|| word.strip_prefix("www."));
            rest.is_some_and(|rest| rest.chars().next().is_some_and(char::is_alphanumeric))
        })
}

fn is_tag_character(character: char) -> bool {
    character.is_alphanumeric() || matches!(character, '_' | '-' | '/')
}

/// `#tag` where `#` starts a word: letters, digits, `_`, `-` and `/`.
fn collect_tags(text: &str, tags: &mut Vec<String>) {
    let mut previous: Option<char> = None;
    let mut characters = text.char_indices().peekable();
    while let Some((index, character)) = characters.next() {
        let starts_word = previous.is_none_or(|before| before.is_whitespace() || before == '(');
        previous = Some(character);
        if character != '#' || !starts_word {
            continue;
        }
        let rest = &text[index + 1..];
        let length: usize = rest
            .chars()
            .take_while(|character| is_tag_character(*character))
            .map(char::len_utf8)
            .sum();
        let tag: String = rest[..length]
            .trim_end_matches('/')
            .chars()
            .take(MAX_TAG_CHARS)
            .collect();
        if tag.chars().any(char::is_alphabetic) && !tags.contains(&tag) && tags.len() < MAX_TAGS {
            tags.push(tag);
        }
        while characters
            .peek()
            .is_some_and(|(_, next)| is_tag_character(*next))
        {
            previous = characters.next().map(|(_, next)| next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_code_and_tasks_are_seen() {
        let facts = memo_facts(
            "Plan for #work and #home/garden:\n\n\
             - [x] read [the docs](https://example.com)\n\
             - [ ] call `bob`\n",
        );
        assert_eq!(
            facts,
            MemoFacts {
                has_link: true,
                has_code: true,
                has_task_list: true,
                has_incomplete_tasks: true,
                tags: vec!["work".into(), "home/garden".into()],
            }
        );
    }

    #[test]
    fn bare_urls_and_autolinks_are_links() {
        assert!(memo_facts("see https://example.com today").has_link);
        assert!(memo_facts("see <https://example.com>").has_link);
        assert!(memo_facts("see www.example.com").has_link);
        assert!(!memo_facts("no link: https:// alone, or wwwhat").has_link);
    }

    #[test]
    fn tags_inside_code_are_not_tags() {
        let facts = memo_facts(
            "#real\n\n```\n#not-in-block\n```\n\n`#not-in-span` and #also-real, a#b, # heading-ish, #123",
        );
        assert_eq!(facts.tags, vec!["real".to_owned(), "also-real".to_owned()]);
        assert!(facts.has_code);
        assert!(!facts.has_task_list);
    }

    #[test]
    fn checked_tasks_only_are_complete() {
        let facts = memo_facts("- [x] done\n- [X] also done\n");
        assert!(facts.has_task_list);
        assert!(!facts.has_incomplete_tasks);
    }

    #[test]
    fn headings_are_not_tags_and_tags_repeat_once() {
        let facts = memo_facts("# Title\n\n#Ünïcode #ünïcode #Ünïcode\n");
        assert_eq!(facts.tags, vec!["Ünïcode".to_owned(), "ünïcode".to_owned()]);
    }
}
