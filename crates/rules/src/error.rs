//! Problems found in a rules file, and the crate's error type.
//!
//! A rules file is written by people, so a bad one must say *every* thing wrong with it, each
//! with `origin:line:column`, in one go: [`Problem`] is one finding, [`RulesError::Invalid`]
//! carries all of them.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// How bad a finding is: errors stop compilation, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One finding, located in the source text (1-based line and column, in characters).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub severity: Severity,
    pub origin: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Problem {
    /// An error at byte `span.start` of `text`.
    pub(crate) fn error(origin: &str, text: &str, span: Range<usize>, message: String) -> Self {
        let (line, column) = line_col(text, span.start);
        Problem {
            severity: Severity::Error,
            origin: origin.to_string(),
            line,
            column,
            message,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.origin, self.line, self.column, self.severity, self.message
        )
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Errors of qualify-rules.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The rules file has problems; every one is listed, errors first.
    #[error("{}", render(problems))]
    Invalid { problems: Vec<Problem> },
    /// The rules file could not be read.
    #[error("cannot read rules file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl RulesError {
    /// The problems, when the file was read but is invalid.
    pub fn problems(&self) -> &[Problem] {
        match self {
            RulesError::Invalid { problems } => problems,
            RulesError::Read { .. } => &[],
        }
    }
}

fn render(problems: &[Problem]) -> String {
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let mut out = format!("invalid rules file ({errors} error(s))");
    for p in problems {
        out.push_str("\n  ");
        out.push_str(&p.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, text.rfind('=').unwrap_or(0)), (2, 4));
        assert_eq!(line_col(text, 10_000), (3, 1));
    }
}
