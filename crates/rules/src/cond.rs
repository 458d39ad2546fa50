//! Compiled conditions and how they match values.
//!
//! A lead's values arrive in many shapes (typed record fields, JSON extras, untyped CSV text),
//! and marketing data is messy ("SaaS" vs "saas", "Yes" or `1` for true, "Select" for blank).
//! Matching is therefore lenient in one documented way, and it is the model's way: values
//! are read by qualify-core's one value parser ([`qualify_core::encoder::parse`]) and its one
//! missing-token test, so a value the encoder reads as true, as 500 or as missing is true,
//! 500 or missing to a rule too. Text compares trimmed and ASCII case-insensitively, and a
//! list matches when any element does. Nothing here allocates.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use qualify_core::encoder::parse::{bool_from_text, number_from_text, parse_bool, parse_number};
use qualify_core::value::{Cell, is_missing_text};
use regex::bytes::{Regex, RegexBuilder};

use crate::field::{Field, FieldKind};
use crate::format::{Condition, Scalar};

/// A borrowed value of one field of one lead.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Val<'a> {
    Missing,
    Bool(bool),
    Num(f64),
    Text(&'a str),
    /// A point in time (the latest activity of a record, a parsed `last_activity_at`).
    Time(DateTime<Utc>),
    Strs(&'a [String]),
    Json(&'a [serde_json::Value]),
}

/// A JSON list element as a core cell (objects, nested lists and nulls are no value).
fn json_cell(j: &serde_json::Value) -> Option<Cell<'_>> {
    use serde_json::Value;
    match j {
        Value::String(s) => Some(Cell::Text(s)),
        Value::Number(n) => n.as_f64().map(Cell::Number),
        Value::Bool(b) => Some(Cell::Bool(*b)),
        _ => None,
    }
}

impl<'a> Val<'a> {
    /// Blank text, a missing-value token, NaN and lists with no present element are all
    /// missing (core's missing-token test: the encoder's).
    pub fn normalize(self, missing: &[Box<str>]) -> Val<'a> {
        let gone = |t: &str| is_missing_text(t, missing);
        match self {
            Val::Text(s) => {
                if gone(s) {
                    Val::Missing
                } else {
                    Val::Text(s.trim())
                }
            }
            Val::Num(n) if n.is_nan() => Val::Missing,
            Val::Strs(list) if list.iter().all(|s| gone(s)) => Val::Missing,
            Val::Json(list)
                if list.iter().all(|j| match json_cell(j) {
                    None => true,
                    Some(Cell::Text(t)) => gone(t),
                    Some(_) => false,
                }) =>
            {
                Val::Missing
            }
            v => v,
        }
    }

    /// The value as a core cell, for scalars.
    fn cell(self) -> Option<Cell<'a>> {
        match self {
            Val::Missing => Some(Cell::Missing),
            Val::Bool(b) => Some(Cell::Bool(b)),
            Val::Num(n) => Some(Cell::Number(n)),
            Val::Text(s) => Some(Cell::Text(s)),
            Val::Time(_) | Val::Strs(_) | Val::Json(_) => None,
        }
    }

    /// The value as a finite number, read as the encoder reads a numeric column: numbers,
    /// and text that parses as one.
    pub fn number(self) -> Option<f64> {
        self.cell()
            .and_then(|c| parse_number(c, &|_| false).ok().flatten())
    }
}

/// A literal, with its number, yes/no and time readings precomputed.
#[derive(Debug, Clone)]
pub(crate) struct Lit {
    text: Box<str>,
    num: Option<f64>,
    boolean: Option<bool>,
    time: Option<DateTime<Utc>>,
}

impl Lit {
    pub fn new(s: &Scalar) -> Lit {
        match s {
            Scalar::Text(t) => Lit::text(t),
            Scalar::Number(n) => Lit {
                text: n.to_string().into(),
                num: Some(*n),
                boolean: None,
                time: None,
            },
            Scalar::Bool(b) => Lit {
                text: b.to_string().into(),
                num: None,
                boolean: Some(*b),
                time: None,
            },
        }
    }

    pub fn text(t: &str) -> Lit {
        let t = t.trim();
        Lit {
            text: t.into(),
            num: number_from_text(t).filter(|n| n.is_finite()),
            boolean: bool_from_text(t),
            time: qualify_core::encoder::parse::time_from_text(t),
        }
    }

    /// Compares with one scalar cell: equal text (trimmed, ASCII case ignored), else the
    /// literal's number or yes/no reading against the cell read by core's parser.
    fn matches_cell(&self, c: Cell<'_>, is_missing: &dyn Fn(&str) -> bool) -> bool {
        match c {
            Cell::Missing => return false,
            Cell::Text(s) if is_missing(s) => return false,
            Cell::Text(s) if self.text.eq_ignore_ascii_case(s.trim()) => return true,
            _ => {}
        }
        match (self.num, self.boolean) {
            (Some(n), _) => parse_number(c, is_missing) == Ok(Some(n)),
            (None, Some(b)) => parse_bool(c, is_missing) == Ok(Some(b)),
            (None, None) => false,
        }
    }

    fn matches(&self, v: Val<'_>, is_missing: &dyn Fn(&str) -> bool) -> bool {
        match v {
            Val::Time(t) => self.time == Some(t),
            Val::Strs(list) => list
                .iter()
                .any(|s| self.matches_cell(Cell::Text(s), is_missing)),
            Val::Json(list) => list
                .iter()
                .filter_map(json_cell)
                .any(|c| self.matches_cell(c, is_missing)),
            scalar => scalar
                .cell()
                .is_some_and(|c| self.matches_cell(c, is_missing)),
        }
    }
}

/// The literals of `one_of` / `not_one_of`. Lists of plain words (country codes, industries)
/// are kept lowercased and sorted and searched by binary search on a stack-lowercased value;
/// mixed lists (numbers, booleans) are compared one by one.
#[derive(Debug, Clone)]
pub(crate) enum LitSet {
    Words(Box<[Box<[u8]>]>),
    Mixed(Box<[Lit]>),
}

/// Longest value the word search lowercases on the stack; longer values take the slow path.
const WORD_MAX: usize = 64;

impl LitSet {
    pub fn new(values: &[Scalar]) -> LitSet {
        let lits: Vec<Lit> = values.iter().map(Lit::new).collect();
        if lits.iter().all(|l| {
            l.num.is_none() && l.boolean.is_none() && l.time.is_none() && l.text.len() <= WORD_MAX
        }) {
            let mut words: Vec<Box<[u8]>> = lits
                .iter()
                .map(|l| l.text.to_ascii_lowercase().into_bytes().into())
                .collect();
            words.sort();
            words.dedup();
            LitSet::Words(words.into())
        } else {
            LitSet::Mixed(lits.into())
        }
    }

    /// Whether trimmed text is one of the words (word lists only).
    fn contains_word(words: &[Box<[u8]>], s: &str) -> bool {
        if s.len() > WORD_MAX {
            return false;
        }
        let mut buf = [0u8; WORD_MAX];
        let lower = &mut buf[..s.len()];
        lower.copy_from_slice(s.as_bytes());
        lower.make_ascii_lowercase();
        words.binary_search_by(|w| (**w).cmp(&*lower)).is_ok()
    }

    pub fn matches(&self, v: Val<'_>, is_missing: &dyn Fn(&str) -> bool) -> bool {
        match (self, v) {
            (_, Val::Missing) => false,
            (LitSet::Mixed(lits), v) => lits.iter().any(|l| l.matches(v, is_missing)),
            // Words have no number, yes/no or time reading: only text can equal them.
            (LitSet::Words(words), Val::Text(s)) => Self::contains_word(words, s),
            (LitSet::Words(words), Val::Strs(list)) => list
                .iter()
                .any(|s| !is_missing(s) && Self::contains_word(words, s.trim())),
            (LitSet::Words(words), Val::Json(list)) => list.iter().any(|j| {
                j.as_str()
                    .is_some_and(|s| !is_missing(s) && Self::contains_word(words, s.trim()))
            }),
            (LitSet::Words(_), Val::Num(_) | Val::Bool(_) | Val::Time(_)) => false,
        }
    }
}

/// The one way patterns are built: ASCII case-insensitive unless the pattern says `(?-i)`,
/// byte-oriented so the small regex build (no Unicode tables) accepts `.` and `\w`.
pub(crate) fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    Equals(Field, Lit),
    OneOf(Field, LitSet),
    NotOneOf(Field, LitSet),
    Range(Field, f64, f64),
    Pattern(Field, Box<Regex>),
    Present(Field, bool),
    Framework(u32),
    All(Box<[Cond]>),
    Any(Box<[Cond]>),
    Not(Box<Cond>),
}

/// What a condition needs to look at one lead.
pub(crate) trait Lookup {
    /// The field's value, normalized ([`Val::normalize`]).
    fn value(&self, field: &Field) -> Val<'_>;
    fn framework_met(&self, index: u32) -> bool;
    /// The missing-token test of list elements.
    fn is_missing(&self, text: &str) -> bool;
}

impl Cond {
    /// Compiles a checked condition; `frameworks` maps framework names to indices.
    pub fn compile(c: &Condition, frameworks: &BTreeMap<String, u32>) -> Result<Cond, String> {
        let field = || {
            c.field
                .as_deref()
                .map(Field::resolve)
                .ok_or("missing `field`")
        };
        let many = |list: &[Condition]| {
            list.iter()
                .map(|s| Cond::compile(s, frameworks))
                .collect::<Result<Box<[Cond]>, String>>()
        };
        Ok(if let Some(v) = &c.equals {
            Cond::Equals(field()?, Lit::new(v))
        } else if let Some(v) = &c.one_of {
            Cond::OneOf(field()?, LitSet::new(v))
        } else if let Some(v) = &c.not_one_of {
            Cond::NotOneOf(field()?, LitSet::new(v))
        } else if c.min.is_some() || c.max.is_some() {
            Cond::Range(
                field()?,
                c.min.unwrap_or(f64::NEG_INFINITY),
                c.max.unwrap_or(f64::INFINITY),
            )
        } else if let Some(p) = &c.pattern {
            Cond::Pattern(
                field()?,
                Box::new(build_regex(p).map_err(|e| e.to_string())?),
            )
        } else if let Some(p) = c.present {
            Cond::Present(field()?, p)
        } else if let Some(d) = c.email_domain {
            Cond::Equals(
                Field::resolve(qualify_core::lead::EMAIL_DOMAIN_TYPE),
                Lit::text(d.as_str()),
            )
        } else if let Some(name) = &c.framework {
            Cond::Framework(
                *frameworks
                    .get(name)
                    .ok_or_else(|| format!("unknown framework `{name}`"))?,
            )
        } else if let Some(list) = &c.all {
            Cond::All(many(list)?)
        } else if let Some(list) = &c.any {
            Cond::Any(many(list)?)
        } else if let Some(sub) = &c.not {
            Cond::Not(Box::new(Cond::compile(sub, frameworks)?))
        } else {
            return Err("empty condition".into());
        })
    }

    pub fn holds<L: Lookup + ?Sized>(&self, l: &L) -> bool {
        match self {
            Cond::Equals(f, lit) => lit.matches(l.value(f), &|t| l.is_missing(t)),
            Cond::OneOf(f, set) => set.matches(l.value(f), &|t| l.is_missing(t)),
            Cond::NotOneOf(f, set) => {
                let v = l.value(f);
                !matches!(v, Val::Missing) && !set.matches(v, &|t| l.is_missing(t))
            }
            Cond::Range(f, min, max) => l.value(f).number().is_some_and(|n| *min <= n && n <= *max),
            Cond::Pattern(f, re) => match l.value(f) {
                Val::Text(s) => re.is_match(s.as_bytes()),
                Val::Strs(list) => list.iter().any(|s| re.is_match(s.as_bytes())),
                Val::Json(list) => list
                    .iter()
                    .any(|j| j.as_str().is_some_and(|s| re.is_match(s.as_bytes()))),
                _ => false,
            },
            Cond::Present(f, want) => !matches!(l.value(f), Val::Missing) == *want,
            Cond::Framework(i) => l.framework_met(*i),
            Cond::All(list) => list.iter().all(|c| c.holds(l)),
            Cond::Any(list) => list.iter().any(|c| c.holds(l)),
            Cond::Not(c) => !c.holds(l),
        }
    }

    /// Fields this condition reads (for column selection by callers).
    pub fn fields<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Cond::Equals(f, _)
            | Cond::OneOf(f, _)
            | Cond::NotOneOf(f, _)
            | Cond::Range(f, _, _)
            | Cond::Pattern(f, _)
            | Cond::Present(f, _) => {
                if !matches!(f.kind, FieldKind::Pseudo(_)) {
                    out.push(&f.name);
                }
            }
            Cond::Framework(_) => {}
            Cond::All(list) | Cond::Any(list) => list.iter().for_each(|c| c.fields(out)),
            Cond::Not(c) => c.fields(out),
        }
    }
}
