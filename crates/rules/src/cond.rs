//! Compiled conditions and how they match values.
//!
//! A lead's values arrive in many shapes (typed record fields, JSON extras, untyped CSV text),
//! and marketing data is messy ("SaaS" vs "saas", "Yes" for true, "Select" for blank). Matching
//! is therefore lenient in one documented way: text compares trimmed and ASCII
//! case-insensitively, text that reads as a number or a yes/no compares as one, and a list
//! matches when any element does. Nothing here allocates.

use std::collections::BTreeMap;

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
    Strs(&'a [String]),
    Json(&'a [serde_json::Value]),
}

impl<'a> Val<'a> {
    /// Blank text, a missing-value token, NaN and empty lists are all missing.
    pub fn normalize(self, missing: &[Box<str>]) -> Val<'a> {
        match self {
            Val::Text(s) => {
                let t = s.trim();
                if t.is_empty() || missing.iter().any(|m| m.eq_ignore_ascii_case(t)) {
                    Val::Missing
                } else {
                    Val::Text(t)
                }
            }
            Val::Num(n) if n.is_nan() => Val::Missing,
            Val::Strs([]) | Val::Json([]) => Val::Missing,
            v => v,
        }
    }

    /// The value as a number: numbers, and text that parses as one.
    pub fn number(self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(n),
            Val::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// A literal, with its number and yes/no readings precomputed.
#[derive(Debug, Clone)]
pub(crate) struct Lit {
    text: Box<str>,
    num: Option<f64>,
    boolean: Option<bool>,
}

impl Lit {
    pub fn new(s: &Scalar) -> Lit {
        match s {
            Scalar::Text(t) => Lit::text(t),
            Scalar::Number(n) => Lit {
                text: n.to_string().into(),
                num: Some(*n),
                boolean: None,
            },
            Scalar::Bool(b) => Lit {
                text: b.to_string().into(),
                num: None,
                boolean: Some(*b),
            },
        }
    }

    pub fn text(t: &str) -> Lit {
        let t = t.trim();
        Lit {
            text: t.into(),
            num: t.parse().ok(),
            boolean: parse_bool(t),
        }
    }

    /// Compares with text that is already trimmed.
    fn matches_text(&self, s: &str) -> bool {
        if self.text.eq_ignore_ascii_case(s) {
            return true;
        }
        match (self.num, self.boolean) {
            (None, None) => false,
            (Some(n), _) => s.parse::<f64>().is_ok_and(|v| v == n),
            (None, Some(b)) => parse_bool(s) == Some(b),
        }
    }

    fn matches(&self, v: Val<'_>) -> bool {
        match v {
            Val::Missing => false,
            Val::Text(s) => self.matches_text(s),
            Val::Num(n) => self.num == Some(n),
            Val::Bool(b) => self.boolean == Some(b),
            Val::Strs(list) => list.iter().any(|s| self.matches_text(s.trim())),
            Val::Json(list) => list.iter().any(|j| match j {
                serde_json::Value::String(s) => self.matches_text(s.trim()),
                serde_json::Value::Number(n) => self.num.is_some() && n.as_f64() == self.num,
                serde_json::Value::Bool(b) => self.boolean == Some(*b),
                _ => false,
            }),
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
        if lits
            .iter()
            .all(|l| l.num.is_none() && l.boolean.is_none() && l.text.len() <= WORD_MAX)
        {
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

    fn contains_text(&self, s: &str) -> bool {
        match self {
            LitSet::Words(words) if s.len() <= WORD_MAX => {
                let mut buf = [0u8; WORD_MAX];
                let lower = &mut buf[..s.len()];
                lower.copy_from_slice(s.as_bytes());
                lower.make_ascii_lowercase();
                words.binary_search_by(|w| (**w).cmp(&*lower)).is_ok()
            }
            LitSet::Words(_) => false,
            LitSet::Mixed(lits) => lits.iter().any(|l| l.matches_text(s)),
        }
    }

    pub fn matches(&self, v: Val<'_>) -> bool {
        match (self, v) {
            (_, Val::Missing) => false,
            (_, Val::Text(s)) => self.contains_text(s),
            (_, Val::Strs(list)) => list.iter().any(|s| self.contains_text(s.trim())),
            (LitSet::Words(_), Val::Json(list)) => list
                .iter()
                .any(|j| j.as_str().is_some_and(|s| self.contains_text(s.trim()))),
            (LitSet::Words(_), Val::Num(_) | Val::Bool(_)) => false,
            (LitSet::Mixed(lits), v) => lits.iter().any(|l| l.matches(v)),
        }
    }
}

/// Reads yes/no answers as CRMs and forms write them.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    const YES: &[&str] = &["true", "yes", "y"];
    const NO: &[&str] = &["false", "no", "n"];
    let s = s.trim();
    if YES.iter().any(|y| y.eq_ignore_ascii_case(s)) {
        Some(true)
    } else if NO.iter().any(|n| n.eq_ignore_ascii_case(s)) {
        Some(false)
    } else {
        None
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
    fn value(&self, field: &Field) -> Val<'_>;
    fn framework_met(&self, index: u32) -> bool;
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
            Cond::Equals(f, lit) => lit.matches(l.value(f)),
            Cond::OneOf(f, set) => set.matches(l.value(f)),
            Cond::NotOneOf(f, set) => {
                let v = l.value(f);
                !matches!(v, Val::Missing) && !set.matches(v)
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
