//! Checks of one condition tree: one operator per node, a field where one is needed, values
//! of the right kind for canonical fields, sane ranges, compiling regexes, known frameworks.

use std::str::FromStr;

use qualify_core::encoder::parse::{bool_from_text, number_from_text, time_from_text};
use qualify_core::lead::{EmailDomainType, Seniority};

use super::{Checker, Place};
use crate::field::{Kind, kind_of};
use crate::format::{Condition, Scalar};
use crate::outcome::Stage;

impl Checker<'_> {
    pub(crate) fn condition(&mut self, c: &Condition, path: &str, place: Place) {
        let ops: Vec<&str> = [
            ("equals", c.equals.is_some()),
            ("one_of", c.one_of.is_some()),
            ("not_one_of", c.not_one_of.is_some()),
            ("min/max", c.min.is_some() || c.max.is_some()),
            ("pattern", c.pattern.is_some()),
            ("present", c.present.is_some()),
            ("email_domain", c.email_domain.is_some()),
            ("framework", c.framework.is_some()),
            ("all", c.all.is_some()),
            ("any", c.any.is_some()),
            ("not", c.not.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        let op = match ops.as_slice() {
            [] => {
                self.error(path, "empty condition: give one operator (equals, one_of, min/max, pattern, present, email_domain, framework, all, any, not)".into());
                return;
            }
            [op] => *op,
            many => {
                self.error(
                    path,
                    format!(
                        "one operator per condition, found {}; combine them with `all = [...]`",
                        many.join(", ")
                    ),
                );
                return;
            }
        };
        let needs_field = matches!(
            op,
            "equals" | "one_of" | "not_one_of" | "min/max" | "pattern" | "present"
        );
        match (&c.field, needs_field) {
            (None, true) => self.error(path, format!("`{op}` needs a `field`")),
            (Some(_), false) => {
                self.error(&format!("{path}.field"), format!("`{op}` takes no `field`"))
            }
            (Some(field), true) => {
                self.field(field, &format!("{path}.field"), place);
                self.leaf(c, field, path, op);
            }
            (None, false) => {}
        }
        if let Some(name) = &c.framework {
            let fpath = format!("{path}.framework");
            if place == Place::Framework {
                self.error(
                    &fpath,
                    "a framework criterion cannot refer to a framework".into(),
                );
            } else if !self.file.frameworks.contains_key(name) {
                let known: Vec<&str> = self.file.frameworks.keys().map(String::as_str).collect();
                self.error(
                    &fpath,
                    format!("unknown framework `{name}` (defined: {})", known.join(", ")),
                );
            }
        }
        for (key, list) in [("all", &c.all), ("any", &c.any)] {
            if let Some(list) = list {
                if list.is_empty() {
                    self.error(
                        &format!("{path}.{key}"),
                        format!("`{key}` needs at least one condition"),
                    );
                }
                for (i, sub) in list.iter().enumerate() {
                    self.condition(sub, &format!("{path}.{key}[{i}]"), place);
                }
            }
        }
        if let Some(sub) = &c.not {
            self.condition(sub, &format!("{path}.not"), place);
        }
    }

    /// Operator-specific checks of a leaf on `field`.
    fn leaf(&mut self, c: &Condition, field: &str, path: &str, op: &str) {
        let kind = kind_of(field);
        if let (Some(min), Some(max)) = (c.min, c.max)
            && min > max
        {
            self.error(
                &format!("{path}.min"),
                format!("bad range: min {min} > max {max}"),
            );
        }
        for (key, v) in [("min", c.min), ("max", c.max)] {
            if v.is_some_and(f64::is_nan) {
                self.error(&format!("{path}.{key}"), format!("`{key}` is not a number"));
            }
        }
        if op == "min/max" && matches!(kind, Some(Kind::Time)) {
            self.error(
                &format!("{path}.field"),
                format!("`{field}` is a time; min/max need a number (decay measures the age of activities)"),
            );
        }
        if op == "min/max" && matches!(kind, Some(Kind::Text | Kind::Bool | Kind::List)) {
            self.error(
                &format!("{path}.field"),
                format!("`{field}` is not numeric; min/max need a number"),
            );
        }
        if let Some(pattern) = &c.pattern {
            if matches!(kind, Some(Kind::Number | Kind::Bool)) {
                self.error(
                    &format!("{path}.field"),
                    format!("`{field}` is not text; a pattern needs text"),
                );
            }
            if let Err(e) = crate::cond::build_regex(pattern) {
                self.error(&format!("{path}.pattern"), format!("bad pattern: {e}"));
            }
        }
        let lists = [
            ("equals", c.equals.as_slice()),
            ("one_of", c.one_of.as_deref().unwrap_or(&[])),
            ("not_one_of", c.not_one_of.as_deref().unwrap_or(&[])),
        ];
        for (key, values) in lists {
            let vpath = format!("{path}.{key}");
            if key != "equals" && values.is_empty() && op == key {
                self.error(&vpath, format!("`{key}` needs at least one value"));
            }
            for v in values {
                if let Some(message) = value_problem(field, kind, v) {
                    self.error(&vpath, message);
                }
            }
        }
    }
}

/// Why `v` can never equal a value of canonical field `field`, if it cannot.
fn value_problem(field: &str, kind: Option<Kind>, v: &Scalar) -> Option<String> {
    let kind = kind?;
    // What can match is what core's value parser reads (the encoder's reading).
    let bad_kind = match (kind, v) {
        (Kind::Number, Scalar::Text(t)) => number_from_text(t).is_none(),
        (Kind::Number, Scalar::Bool(_)) => true,
        (Kind::Bool, Scalar::Number(_)) => true,
        (Kind::Bool, Scalar::Text(t)) => bool_from_text(t).is_none(),
        (Kind::Time, Scalar::Text(t)) => time_from_text(t).is_none(),
        (Kind::Time, Scalar::Number(_) | Scalar::Bool(_)) => true,
        (Kind::Text | Kind::List, Scalar::Bool(_)) => true,
        _ => false,
    };
    if bad_kind {
        let want = match kind {
            Kind::Number => "a number",
            Kind::Bool => "true or false",
            Kind::Time => "a time",
            _ => "text",
        };
        return Some(format!(
            "`{field}` holds {want}; {} can never match",
            show(v)
        ));
    }
    let Scalar::Text(t) = v else { return None };
    let known: Option<Vec<&str>> = match field {
        "seniority" => Seniority::from_str(t).err().map(|e| e.expected),
        "email_domain_type" => EmailDomainType::from_str(t).err().map(|e| e.expected),
        "stage" => (!Stage::ALL
            .iter()
            .any(|s| s.as_str().eq_ignore_ascii_case(t)))
        .then(|| Stage::ALL.iter().map(|s| s.as_str()).collect()),
        _ => None,
    };
    known.map(|expected| {
        format!(
            "unknown {field} {t:?}, expected one of: {}",
            expected.join(", ")
        )
    })
}

fn show(v: &Scalar) -> String {
    match v {
        Scalar::Bool(b) => b.to_string(),
        Scalar::Number(n) => n.to_string(),
        Scalar::Text(t) => format!("{t:?}"),
    }
}
