//! `google.api.http` path templates: parsing and matching.
//!
//! ```text
//! Template = "/" Segments [ Verb ] ;
//! Segments = Segment { "/" Segment } ;
//! Segment  = "*" | "**" | LITERAL | Variable ;
//! Variable = "{" FieldPath [ "=" Segments ] "}" ;
//! FieldPath = IDENT { "." IDENT } ;
//! Verb     = ":" LITERAL ;
//! ```
//!
//! A template is flattened into one list of segments; each variable covers a
//! range of it. `{x}` is `{x=*}`. Matching works on the raw (still
//! percent-encoded) request segments so that `%2F` never splits a segment;
//! captured values are decoded afterwards.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// One segment of a flattened template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Matches exactly this text.
    Literal(String),
    /// `*`: exactly one non-empty segment.
    Single,
    /// `**`: zero or more segments; only ever the last segment.
    Multi,
}

/// A `{field.path=...}` variable covering `segments[start..end]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Variable {
    pub(crate) field_path: Vec<String>,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// A parsed path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathTemplate {
    pub(crate) segments: Vec<Segment>,
    pub(crate) variables: Vec<Variable>,
    pub(crate) verb: Option<String>,
}

/// A request path split once into raw segments, shared by every route tried.
#[derive(Debug)]
pub(crate) struct RequestPath<'a> {
    segments: Vec<&'a str>,
}

impl<'a> RequestPath<'a> {
    /// Splits an absolute path; `None` if it does not start with `/`.
    pub(crate) fn parse(path: &'a str) -> Option<RequestPath<'a>> {
        let rest = path.strip_prefix('/')?;
        Some(RequestPath {
            segments: rest.split('/').collect(),
        })
    }
}

impl PathTemplate {
    /// Parses a template such as `/v1/{name=users/*}:getStats`.
    pub(crate) fn parse(text: &str) -> Result<PathTemplate, String> {
        let mut parser = Parser {
            input: text.as_bytes(),
            text,
            position: 0,
            template: PathTemplate {
                segments: Vec::new(),
                variables: Vec::new(),
                verb: None,
            },
        };
        parser.expect(b'/')?;
        parser.segments(false)?;
        if parser.peek() == Some(b':') {
            parser.position += 1;
            let verb = parser.literal()?;
            parser.template.verb = Some(verb);
        }
        if parser.position != parser.input.len() {
            return Err(format!(
                "unexpected {:?} at offset {}",
                &text[parser.position..],
                parser.position
            ));
        }
        let mut template = parser.template;
        if let Some(multi) = template.segments.iter().position(|s| *s == Segment::Multi)
            && multi + 1 != template.segments.len()
        {
            return Err("`**` must be the last segment".to_owned());
        }
        for (index, variable) in template.variables.iter().enumerate() {
            if template.variables[..index]
                .iter()
                .any(|other| other.field_path == variable.field_path)
            {
                return Err(format!(
                    "field {:?} is bound twice",
                    variable.field_path.join(".")
                ));
            }
        }
        template.variables.sort_by_key(|variable| variable.start);
        Ok(template)
    }

    /// How specific the template is; templates are tried from the most
    /// specific down, so literals beat variables (`/v1/users/me` before
    /// `/v1/users/{id}`) and a verb route beats a plain one.
    pub(crate) fn specificity(&self) -> (bool, Vec<u8>) {
        let kinds = self
            .segments
            .iter()
            .map(|segment| match segment {
                Segment::Literal(_) => 2,
                Segment::Single => 1,
                Segment::Multi => 0,
            })
            .collect();
        (self.verb.is_some(), kinds)
    }

    /// The request's segments with the verb stripped from the last one, if
    /// this template has a verb and the path carries it.
    fn effective_last<'a>(&self, path: &RequestPath<'a>) -> Option<&'a str> {
        let last = *path.segments.last()?;
        match &self.verb {
            None => Some(last),
            Some(verb) => {
                let stripped = last.strip_suffix(verb.as_str())?.strip_suffix(':')?;
                Some(stripped)
            }
        }
    }

    /// The raw request segment at `index` (with the verb removed from the last).
    fn segment_at<'a>(path: &RequestPath<'a>, last: &'a str, index: usize) -> &'a str {
        if index + 1 == path.segments.len() {
            last
        } else {
            path.segments[index]
        }
    }

    /// Whether the path matches; allocates nothing unless a segment is
    /// percent-encoded.
    pub(crate) fn matches(&self, path: &RequestPath<'_>) -> bool {
        let Some(last) = self.effective_last(path) else {
            return false;
        };
        let has_multi = self.segments.last() == Some(&Segment::Multi);
        let fixed = if has_multi {
            self.segments.len() - 1
        } else {
            self.segments.len()
        };
        if has_multi {
            if path.segments.len() < fixed {
                return false;
            }
        } else if path.segments.len() != fixed {
            return false;
        }
        self.segments[..fixed]
            .iter()
            .enumerate()
            .all(|(index, segment)| {
                let raw = Self::segment_at(path, last, index);
                match segment {
                    Segment::Literal(literal) => {
                        raw == literal
                            || (raw.contains('%')
                                && percent_decode_str(raw).decode_utf8().ok().as_deref()
                                    == Some(literal.as_str()))
                    }
                    Segment::Single => !raw.is_empty(),
                    Segment::Multi => true,
                }
            })
    }

    /// The decoded value of every variable, in `variables` order, for a path
    /// that [`matches`](Self::matches). A value bound to several segments
    /// (`{name=users/*}`) keeps its literal parts and `/` separators, with
    /// `%2F` inside a segment left encoded so segments stay recoverable.
    pub(crate) fn capture(&self, path: &RequestPath<'_>) -> Result<Vec<String>, String> {
        let last = self.effective_last(path).unwrap_or_default();
        let count = path.segments.len();
        let mut values = Vec::with_capacity(self.variables.len());
        for variable in &self.variables {
            let end = if self.segments[variable.end - 1] == Segment::Multi {
                count
            } else {
                variable.end
            };
            let single =
                end == variable.start + 1 && self.segments[variable.start] == Segment::Single;
            let mut value = String::new();
            for index in variable.start..end {
                let raw = Self::segment_at(path, last, index);
                let decoded = if single {
                    decode(raw)?
                } else {
                    decode_keeping_slashes(raw)?
                };
                if index > variable.start {
                    value.push('/');
                }
                value.push_str(&decoded);
            }
            values.push(value);
        }
        Ok(values)
    }
}

fn decode(raw: &str) -> Result<Cow<'_, str>, String> {
    percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| format!("path segment {raw:?} is not valid UTF-8 once percent-decoded"))
}

fn decode_keeping_slashes(raw: &str) -> Result<Cow<'_, str>, String> {
    if !raw.contains('%') {
        return Ok(Cow::Borrowed(raw));
    }
    let mut decoded = String::with_capacity(raw.len());
    let mut rest = raw;
    loop {
        let slash = rest.as_bytes().windows(3).position(|window| {
            window[0] == b'%' && window[1] == b'2' && (window[2] | 0x20) == b'f'
        });
        match slash {
            Some(at) => {
                decoded.push_str(&decode(&rest[..at])?);
                decoded.push_str("%2F");
                rest = &rest[at + 3..];
            }
            None => {
                decoded.push_str(&decode(rest)?);
                return Ok(Cow::Owned(decoded));
            }
        }
    }
}

struct Parser<'a> {
    input: &'a [u8],
    text: &'a str,
    position: usize,
    template: PathTemplate,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.position).copied()
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.position += 1;
            Ok(())
        } else {
            Err(format!(
                "expected {:?} at offset {}",
                byte as char, self.position
            ))
        }
    }

    fn segments(&mut self, in_variable: bool) -> Result<(), String> {
        loop {
            self.segment(in_variable)?;
            if self.peek() == Some(b'/') {
                self.position += 1;
            } else {
                return Ok(());
            }
        }
    }

    fn segment(&mut self, in_variable: bool) -> Result<(), String> {
        match self.peek() {
            Some(b'*') => {
                self.position += 1;
                if self.peek() == Some(b'*') {
                    self.position += 1;
                    self.template.segments.push(Segment::Multi);
                } else {
                    self.template.segments.push(Segment::Single);
                }
                Ok(())
            }
            Some(b'{') if in_variable => Err("variables cannot be nested".to_owned()),
            Some(b'{') => self.variable(),
            _ => {
                let literal = self.literal()?;
                self.template.segments.push(Segment::Literal(literal));
                Ok(())
            }
        }
    }

    fn variable(&mut self) -> Result<(), String> {
        self.expect(b'{')?;
        let mut field_path = vec![self.ident()?];
        while self.peek() == Some(b'.') {
            self.position += 1;
            field_path.push(self.ident()?);
        }
        let start = self.template.segments.len();
        if self.peek() == Some(b'=') {
            self.position += 1;
            self.segments(true)?;
        } else {
            self.template.segments.push(Segment::Single);
        }
        self.expect(b'}')?;
        let end = self.template.segments.len();
        self.template.variables.push(Variable {
            field_path,
            start,
            end,
        });
        Ok(())
    }

    fn ident(&mut self) -> Result<String, String> {
        let start = self.position;
        while let Some(byte) = self.peek() {
            let valid = byte.is_ascii_alphanumeric() || byte == b'_';
            if !valid || (self.position == start && byte.is_ascii_digit()) {
                break;
            }
            self.position += 1;
        }
        if self.position == start {
            return Err(format!("expected a field name at offset {start}"));
        }
        Ok(self.text[start..self.position].to_owned())
    }

    fn literal(&mut self) -> Result<String, String> {
        let start = self.position;
        while let Some(byte) = self.peek() {
            if matches!(byte, b'/' | b'{' | b'}' | b'*' | b':' | b'=' | b'?' | b'#') {
                break;
            }
            self.position += 1;
        }
        if self.position == start {
            return Err(format!("expected a path segment at offset {start}"));
        }
        Ok(self.text[start..self.position].to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(text: &str) -> Segment {
        Segment::Literal(text.to_owned())
    }

    fn bind(template: &str, path: &str) -> Option<Vec<String>> {
        let template = PathTemplate::parse(template).unwrap();
        let path = RequestPath::parse(path).unwrap();
        template
            .matches(&path)
            .then(|| template.capture(&path).unwrap())
    }

    #[test]
    fn parses_simple_nested_and_patterned_variables() {
        let template =
            PathTemplate::parse("/v1/shelves/{shelf.id}/books/{name=users/*/settings/*}").unwrap();
        assert_eq!(
            template.segments,
            vec![
                literal("v1"),
                literal("shelves"),
                Segment::Single,
                literal("books"),
                literal("users"),
                Segment::Single,
                literal("settings"),
                Segment::Single,
            ]
        );
        assert_eq!(
            template.variables,
            vec![
                Variable {
                    field_path: vec!["shelf".into(), "id".into()],
                    start: 2,
                    end: 3
                },
                Variable {
                    field_path: vec!["name".into()],
                    start: 4,
                    end: 8
                },
            ]
        );
        assert_eq!(template.verb, None);
    }

    #[test]
    fn parses_verbs_and_double_wildcards() {
        let template = PathTemplate::parse("/v1/{name=users/*}:getStats").unwrap();
        assert_eq!(template.verb.as_deref(), Some("getStats"));
        let template = PathTemplate::parse("/v1/users:stats").unwrap();
        assert_eq!(template.segments, vec![literal("v1"), literal("users")]);
        assert_eq!(template.verb.as_deref(), Some("stats"));
        let template = PathTemplate::parse("/v1/files/{path=**}").unwrap();
        assert_eq!(template.segments.last(), Some(&Segment::Multi));
        let template = PathTemplate::parse("/v1/*/x").unwrap();
        assert_eq!(template.segments[1], Segment::Single);
        assert!(template.variables.is_empty());
    }

    #[test]
    fn rejects_malformed_templates() {
        for bad in [
            "",
            "v1/users",
            "/",
            "/v1//users",
            "/v1/{user",
            "/v1/{}",
            "/v1/{a={b}}",
            "/v1/{1a}",
            "/v1/**/x",
            "/v1/{a}/{a}",
            "/v1/users:",
            "/v1/users:a:b",
            "/v1/users/",
            "/v1/{a=}",
        ] {
            assert!(
                PathTemplate::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn binds_single_segment_variables_decoded() {
        assert_eq!(
            bind("/v1/users/{user_id}", "/v1/users/abc"),
            Some(vec!["abc".to_owned()])
        );
        assert_eq!(
            bind("/v1/users/{user_id}", "/v1/users/a%20b%2Fc"),
            Some(vec!["a b/c".to_owned()])
        );
        assert_eq!(bind("/v1/users/{user_id}", "/v1/users/"), None);
        assert_eq!(bind("/v1/users/{user_id}", "/v1/users/a/b"), None);
        assert_eq!(bind("/v1/users/{user_id}", "/v1/users"), None);
    }

    #[test]
    fn emails_with_at_plus_and_colon_bind_verbatim() {
        assert_eq!(
            bind(
                "/v1/users/email/{email}",
                "/v1/users/email/a.b+tag@example.com"
            ),
            Some(vec!["a.b+tag@example.com".to_owned()])
        );
        assert_eq!(
            bind(
                "/v1/users/email/{email}",
                "/v1/users/email/odd:name@example.com"
            ),
            Some(vec!["odd:name@example.com".to_owned()])
        );
        assert_eq!(
            bind(
                "/v1/users/email/{email}",
                "/v1/users/email/x%2By%40example.com"
            ),
            Some(vec!["x+y@example.com".to_owned()])
        );
    }

    #[test]
    fn patterned_variables_keep_their_literal_prefix() {
        assert_eq!(
            bind("/api/v1/{name=users/*}", "/api/v1/users/abc"),
            Some(vec!["users/abc".to_owned()])
        );
        assert_eq!(
            bind(
                "/v1/{name=users/*/settings/*}",
                "/v1/users/u1/settings/GENERAL"
            ),
            Some(vec!["users/u1/settings/GENERAL".to_owned()])
        );
        assert_eq!(bind("/api/v1/{name=users/*}", "/api/v1/memos/abc"), None);
        assert_eq!(
            bind("/v1/{name=users/*}", "/v1/users/a%2Fb%20c"),
            Some(vec!["users/a%2Fb c".to_owned()])
        );
    }

    #[test]
    fn verbs_must_be_present_and_are_stripped() {
        assert_eq!(
            bind("/v1/{name=users/*}:getStats", "/v1/users/abc:getStats"),
            Some(vec!["users/abc".to_owned()])
        );
        assert_eq!(bind("/v1/{name=users/*}:getStats", "/v1/users/abc"), None);
        assert_eq!(
            bind("/v1/{name=users/*}:getStats", "/v1/users/abc:other"),
            None
        );
        assert_eq!(bind("/v1/users:stats", "/v1/users:stats"), Some(vec![]));
        assert_eq!(bind("/v1/users:stats", "/v1/users"), None);
        // Without a verb in the template the colon is part of the segment.
        assert_eq!(
            bind("/v1/users/{user_id}", "/v1/users/abc:getStats"),
            Some(vec!["abc:getStats".to_owned()])
        );
        assert_eq!(
            bind("/v1/users/{email}:check", "/v1/users/a:b@x.io:check"),
            Some(vec!["a:b@x.io".to_owned()])
        );
    }

    #[test]
    fn double_wildcards_take_the_rest_of_the_path() {
        assert_eq!(
            bind("/v1/files/{path=**}", "/v1/files/a/b%20c/d"),
            Some(vec!["a/b c/d".to_owned()])
        );
        assert_eq!(
            bind("/v1/files/{path=**}", "/v1/files"),
            Some(vec![String::new()])
        );
        assert_eq!(
            bind(
                "/v1/{name=shelves/*/files/**}:download",
                "/v1/shelves/s1/files/x/y:download"
            ),
            Some(vec!["shelves/s1/files/x/y".to_owned()])
        );
        assert_eq!(bind("/v1/files/{path=**}", "/v2/files/a"), None);
    }

    #[test]
    fn literals_match_their_percent_encoded_form() {
        assert_eq!(bind("/v1/users/me", "/v1/us%65rs/me"), Some(vec![]));
        assert_eq!(bind("/v1/users/me", "/v1/users/you"), None);
    }

    #[test]
    fn invalid_utf8_in_a_captured_segment_is_an_error() {
        let template = PathTemplate::parse("/v1/users/{user_id}").unwrap();
        let path = RequestPath::parse("/v1/users/%FF").unwrap();
        assert!(template.matches(&path));
        assert!(template.capture(&path).is_err());
    }

    #[test]
    fn literal_templates_are_more_specific_than_variables() {
        let me = PathTemplate::parse("/v1/users/me").unwrap();
        let by_id = PathTemplate::parse("/v1/users/{user_id}").unwrap();
        let rest = PathTemplate::parse("/v1/{path=**}").unwrap();
        let stats = PathTemplate::parse("/v1/{name=users/*}:getStats").unwrap();
        assert!(me.specificity() > by_id.specificity());
        assert!(by_id.specificity() > rest.specificity());
        assert!(stats.specificity() > me.specificity());
    }
}
