//! Reading a rules file: TOML text to [`RulesFile`], with every structural problem located.
//!
//! serde stops at the first error, but a person fixing a rules file wants all of them. So the
//! text is first parsed into toml's span-carrying tree, then each section and each rule is
//! deserialized on its own: one bad rule does not hide the next. The spans of every key are
//! kept so that the semantic checks ([`crate::check`]) can point at lines and columns too.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use serde::de::{DeserializeOwned, IntoDeserializer};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{Problem, RulesError};
use crate::format::{
    DecaySpec, EngagementRule, FitRule, Framework, Gate, NurtureRule, Route, Stages, TOP_LEVEL_KEYS,
};

/// A parsed rules file. Build one with [`RulesFile::parse`] or [`RulesFile::load`]; check it
/// with [`RulesFile::check`]; compile it with [`crate::CompiledRules::compile`].
#[derive(Debug, Clone)]
pub struct RulesFile {
    pub version: u32,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Text values that mean "not answered" (e.g. "Select"), compared trimmed and
    /// case-insensitively; `None` (the key absent) means the schema's defaults
    /// ([`qualify_core::schema::DEFAULT_MISSING_TOKENS`]), so rules and model agree.
    pub missing_values: Option<Vec<String>>,
    /// Default decay of engagement rules.
    pub decay: DecaySpec,
    pub fit: Vec<FitRule>,
    pub engagement: Vec<EngagementRule>,
    pub gates: Vec<Gate>,
    pub nurture: Vec<NurtureRule>,
    pub stages: Stages,
    pub frameworks: BTreeMap<String, Framework>,
    pub routes: Vec<Route>,
    pub default_route: Option<String>,
    pub(crate) source: Source,
}

/// Where the file came from and where each of its keys sits.
#[derive(Debug, Clone, Default)]
pub(crate) struct Source {
    pub origin: String,
    pub text: String,
    /// Key path (`fit[2].when.min`) to the byte span of the key (of the value for array items).
    pub spans: BTreeMap<String, Range<usize>>,
}

impl Source {
    /// The span of `path`, else of its nearest enclosing key, else the start of the file.
    pub fn span(&self, path: &str) -> Range<usize> {
        let mut path = path;
        loop {
            if let Some(span) = self.spans.get(path) {
                return span.clone();
            }
            match path.rfind(['.', '[']) {
                Some(cut) => path = &path[..cut],
                None => return 0..0,
            }
        }
    }

    pub fn problem(&self, path: &str, message: String) -> Problem {
        Problem::error(&self.origin, &self.text, self.span(path), message)
    }
}

impl RulesFile {
    /// Parses rules text. `origin` (a path or a name) prefixes every problem. Fails with
    /// [`RulesError::Invalid`] listing every syntax error, unknown key and value of the wrong
    /// type; semantic problems are [`RulesFile::check`]'s job.
    pub fn parse(text: &str, origin: &str) -> Result<RulesFile, RulesError> {
        let (root, errors) = DeTable::parse_recoverable(text);
        if !errors.is_empty() {
            let problems = errors
                .iter()
                .map(|e| {
                    let span = e.span().unwrap_or(0..0);
                    Problem::error(origin, text, span, e.message().trim().to_string())
                })
                .collect();
            return Err(RulesError::Invalid { problems });
        }
        let mut reader = Reader {
            origin,
            text,
            problems: Vec::new(),
        };
        let mut spans = BTreeMap::new();
        index_table(root.get_ref(), "", &mut spans);
        let mut file = Partial::default();
        for (key, value) in root.get_ref() {
            let name: &str = key.get_ref();
            match name {
                "version" => file.version = reader.one(value),
                "name" => file.name = reader.one(value),
                "description" => file.description = reader.one(value),
                "missing_values" => file.missing_values = reader.one(value),
                "decay" => file.decay = reader.one(value),
                "fit" => file.fit = reader.many(value, name),
                "engagement" => file.engagement = reader.many(value, name),
                "gates" => file.gates = reader.many(value, name),
                "nurture" => file.nurture = reader.many(value, name),
                "stages" => file.stages = reader.one(value),
                "frameworks" => file.frameworks = reader.frameworks(value),
                "routes" => file.routes = reader.many(value, name),
                "default_route" => file.default_route = reader.one(value),
                other => reader.problem(
                    key.span(),
                    format!(
                        "unknown key `{other}`, expected one of: {}",
                        TOP_LEVEL_KEYS.join(", ")
                    ),
                ),
            }
        }
        if file.stages.is_none() && !root.get_ref().keys().any(|k| k.get_ref() == "stages") {
            reader.problem(
                0..0,
                "missing `[stages]` table (it needs at least `mql = <points>`)".into(),
            );
        }
        let source = Source {
            origin: origin.to_string(),
            text: text.to_string(),
            spans,
        };
        match (reader.problems.is_empty(), file.stages) {
            (true, Some(stages)) => Ok(RulesFile {
                version: file.version.unwrap_or(crate::format::FORMAT_VERSION),
                name: file.name,
                description: file.description,
                missing_values: file.missing_values,
                decay: file.decay.unwrap_or_default(),
                fit: file.fit,
                engagement: file.engagement,
                gates: file.gates,
                nurture: file.nurture,
                stages,
                frameworks: file.frameworks,
                routes: file.routes,
                default_route: file.default_route,
                source,
            }),
            _ => {
                let mut problems = reader.problems;
                problems.sort_by_key(|p| (p.line, p.column));
                Err(RulesError::Invalid { problems })
            }
        }
    }

    /// Reads and parses a rules file; the path is the origin of its problems.
    pub fn load(path: &Path) -> Result<RulesFile, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        RulesFile::parse(&text, &path.display().to_string())
    }

    /// The tokens read as missing (besides blank text): the file's `missing_values`, else
    /// the schema defaults.
    pub fn missing_tokens(&self) -> impl Iterator<Item = &str> {
        let defaults = self
            .missing_values
            .is_none()
            .then_some(qualify_core::schema::DEFAULT_MISSING_TOKENS.iter().copied());
        self.missing_values
            .iter()
            .flatten()
            .map(String::as_str)
            .chain(defaults.into_iter().flatten())
    }

    /// The origin given to [`RulesFile::parse`].
    pub fn origin(&self) -> &str {
        &self.source.origin
    }
}

/// Sections as they are read, before the required ones are known to be there.
#[derive(Default)]
struct Partial {
    version: Option<u32>,
    name: Option<String>,
    description: Option<String>,
    missing_values: Option<Vec<String>>,
    decay: Option<DecaySpec>,
    fit: Vec<FitRule>,
    engagement: Vec<EngagementRule>,
    gates: Vec<Gate>,
    nurture: Vec<NurtureRule>,
    stages: Option<Stages>,
    frameworks: BTreeMap<String, Framework>,
    routes: Vec<Route>,
    default_route: Option<String>,
}

struct Reader<'a> {
    origin: &'a str,
    text: &'a str,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn problem(&mut self, span: Range<usize>, message: String) {
        self.problems
            .push(Problem::error(self.origin, self.text, span, message));
    }

    /// Deserializes one value, recording its error (if any) at the error's own span.
    fn one<T: DeserializeOwned>(&mut self, value: &Spanned<DeValue<'_>>) -> Option<T> {
        match T::deserialize(value.clone().into_deserializer()) {
            Ok(v) => Some(v),
            Err(e) => {
                let span = e.span().unwrap_or_else(|| value.span());
                let mut message = e.message().trim().to_string();
                if TOP_LEVEL_KEYS
                    .iter()
                    .any(|k| message.starts_with(&format!("unknown field `{k}`")))
                {
                    message.push_str(
                        " (top-level keys must come before the first [table] or [[array]] header)",
                    );
                }
                self.problem(span, message);
                None
            }
        }
    }

    /// Deserializes each item of an array of tables on its own.
    fn many<T: DeserializeOwned>(&mut self, value: &Spanned<DeValue<'_>>, name: &str) -> Vec<T> {
        match value.get_ref() {
            DeValue::Array(items) => items.iter().filter_map(|item| self.one(item)).collect(),
            other => {
                let found = other.type_str();
                self.problem(
                    value.span(),
                    format!("`{name}` must be an array of tables ([[{name}]]), found {found}"),
                );
                Vec::new()
            }
        }
    }

    fn frameworks(&mut self, value: &Spanned<DeValue<'_>>) -> BTreeMap<String, Framework> {
        let DeValue::Table(table) = value.get_ref() else {
            let found = value.get_ref().type_str();
            self.problem(
                value.span(),
                format!("`frameworks` must be a table of frameworks, found {found}"),
            );
            return BTreeMap::new();
        };
        table
            .iter()
            .filter_map(|(k, v)| self.one(v).map(|f: Framework| (k.get_ref().to_string(), f)))
            .collect()
    }
}

fn index_table(table: &DeTable<'_>, prefix: &str, spans: &mut BTreeMap<String, Range<usize>>) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        spans.insert(path.clone(), key.span());
        index_value(value, &path, spans);
    }
}

fn index_value(
    value: &Spanned<DeValue<'_>>,
    path: &str,
    spans: &mut BTreeMap<String, Range<usize>>,
) {
    match value.get_ref() {
        DeValue::Table(t) => index_table(t, path, spans),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                spans.insert(item_path.clone(), item.span());
                index_value(item, &item_path, spans);
            }
        }
        _ => {}
    }
}
