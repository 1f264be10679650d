//! The CEL plumbing every list filter shares: parsing within limits (the
//! parser runs under `catch_unwind`), and a walk over `&&` / `||` that
//! hands each comparison to the filter's own grammar. Nothing is evaluated
//! here: each filter turns its leaves into a tree the store makes SQL of.
use cel::common::ast::{Expr, IdedExpr, LiteralValue, operators};

use super::DomainError;

/// Longest filter text accepted.
const MAX_FILTER_BYTES: usize = 1024;
/// Most comparisons in one filter.
const MAX_COMPARISONS: usize = 16;
/// Deepest nesting of `&&` / `||`.
const MAX_DEPTH: usize = 12;

/// What a filter accepts, for its error messages.
#[derive(Clone, Copy, Debug)]
pub struct Grammar {
    /// Which fields may be compared, such as `filter on status or type`.
    pub fields: &'static str,
    /// Which operators and functions exist, such as `==, !=, && or ||`.
    pub operators: &'static str,
}

/// One comparison, handed to the filter's grammar.
#[derive(Clone, Copy, Debug)]
pub enum Leaf<'a> {
    /// `field == "value"` or `field != "value"` (either side may be the literal).
    Compare {
        /// The non-literal side.
        field: &'a IdedExpr,
        /// `==` (true) or `!=`.
        equal: bool,
        /// The string literal.
        value: &'a str,
    },
    /// `target.method(argument)`.
    Method {
        /// The function name.
        name: &'a str,
        /// What it is called on.
        target: &'a IdedExpr,
        /// Its one argument.
        argument: &'a IdedExpr,
    },
}

/// A filter's boolean structure.
pub trait Tree: Sized {
    /// Both.
    fn and(left: Self, right: Self) -> Self;
    /// Either.
    fn or(left: Self, right: Self) -> Self;
}

/// An `InvalidArgument` on the `filter` field.
pub fn invalid(description: impl Into<String>) -> DomainError {
    DomainError::invalid("filter", description)
}

/// Parses `text` and folds it into `T`, each comparison through `leaf`;
/// `None` for an empty filter.
pub fn parse<T: Tree>(
    text: &str,
    grammar: Grammar,
    leaf: &mut dyn FnMut(Leaf<'_>) -> Result<T, DomainError>,
) -> Result<Option<T>, DomainError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    if text.len() > MAX_FILTER_BYTES {
        return Err(invalid(format!("must be at most {MAX_FILTER_BYTES} bytes")));
    }
    // The parser is generated code; a panic on odd input must not take the
    // call (or the worker) down with it.
    let source = text.to_owned();
    let parsed = std::panic::catch_unwind(move || cel::parser::Parser::new().parse(&source))
        .map_err(|_| invalid("syntax error"))?;
    let expression =
        parsed.map_err(|errors| invalid(format!("syntax error: {}", first_line(&errors))))?;
    let mut walk = Walk {
        grammar,
        leaf,
        comparisons: 0,
    };
    walk.fold(&expression, 0).map(Some)
}

struct Walk<'a, T> {
    grammar: Grammar,
    leaf: &'a mut dyn FnMut(Leaf<'_>) -> Result<T, DomainError>,
    comparisons: usize,
}

impl<T: Tree> Walk<'_, T> {
    fn fold(&mut self, expression: &IdedExpr, depth: usize) -> Result<T, DomainError> {
        if depth > MAX_DEPTH {
            return Err(invalid(format!("nests deeper than {MAX_DEPTH} levels")));
        }
        let Expr::Call(call) = &expression.expr else {
            return Err(invalid(format!(
                "expected a comparison; {}",
                self.grammar.fields
            )));
        };
        match (call.func_name.as_str(), &call.target, call.args.as_slice()) {
            (operators::LOGICAL_AND, None, [left, right]) => {
                let left = self.fold(left, depth + 1)?;
                Ok(T::and(left, self.fold(right, depth + 1)?))
            }
            (operators::LOGICAL_OR, None, [left, right]) => {
                let left = self.fold(left, depth + 1)?;
                Ok(T::or(left, self.fold(right, depth + 1)?))
            }
            (operator @ (operators::EQUALS | operators::NOT_EQUALS), None, [left, right]) => {
                self.count()?;
                let equal = operator == operators::EQUALS;
                let (field, value) = match (string_literal(right), string_literal(left)) {
                    (Some(value), _) => (left, value),
                    (None, Some(value)) => (right, value),
                    (None, None) => return Err(invalid("compare a field with a string literal")),
                };
                (self.leaf)(Leaf::Compare {
                    field,
                    equal,
                    value,
                })
            }
            (name, Some(target), [argument]) if !is_operator(name) => {
                self.count()?;
                (self.leaf)(Leaf::Method {
                    name,
                    target,
                    argument,
                })
            }
            (name, _, _) => Err(invalid(format!(
                "unsupported {} {:?}: use {}",
                if is_operator(name) {
                    "operator"
                } else {
                    "function"
                },
                display_operator(name),
                self.grammar.operators
            ))),
        }
    }

    fn count(&mut self) -> Result<(), DomainError> {
        self.comparisons += 1;
        if self.comparisons > MAX_COMPARISONS {
            return Err(invalid(format!("at most {MAX_COMPARISONS} comparisons")));
        }
        Ok(())
    }
}

fn is_operator(name: &str) -> bool {
    name.starts_with('_') || name.ends_with('_') || name.starts_with('@')
}

/// A method a grammar does not know, in the same words as any other.
pub fn unsupported_function(name: &str, grammar: Grammar) -> DomainError {
    invalid(format!(
        "unsupported function {name:?}: use {}",
        grammar.operators
    ))
}

fn first_line(errors: &cel::ParseErrors) -> String {
    errors
        .to_string()
        .lines()
        .next()
        .unwrap_or("unparsable")
        .to_lowercase()
}

/// `_>_` → `>`; function names unchanged.
fn display_operator(name: &str) -> &str {
    name.trim_matches(|character| character == '_' || character == '@')
}

/// The name of a bare identifier.
pub fn identifier(expression: &IdedExpr) -> Option<&str> {
    match &expression.expr {
        Expr::Ident(name) => Some(name),
        _ => None,
    }
}

/// The text of a string literal.
pub fn string_literal(expression: &IdedExpr) -> Option<&str> {
    match &expression.expr {
        Expr::Literal(LiteralValue::String(text)) => Some(text),
        _ => None,
    }
}

/// `labels["key"]`-style indexing: the indexed identifier and the index
/// expression; `None` for anything else.
pub fn index_of(expression: &IdedExpr) -> Option<(&str, &IdedExpr)> {
    let Expr::Call(call) = &expression.expr else {
        return None;
    };
    let [map, key] = call.args.as_slice() else {
        return None;
    };
    if call.func_name != operators::INDEX {
        return None;
    }
    Some((identifier(map)?, key))
}
