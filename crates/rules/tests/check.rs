//! `qualify rules check`: every problem, each with line and column.

use qualify_rules::{CompiledRules, RulesFile, Severity, check_text};

fn shown(text: &str, known: Option<&[String]>) -> Vec<String> {
    check_text(text, "r.toml", known)
        .iter()
        .map(|p| p.to_string())
        .collect()
}

#[test]
fn structural_problems_are_all_reported_with_positions() {
    let text = r#"version = 1
colour = "red"

[stages]
mql = 10

[[fit]]
id = "a"
points = "ten"
when = { field = "industry", equals = "saas" }

[[fit]]
id = "b"
pionts = 5
when = { field = "industry", equals = "saas" }

[[engagement]]
id = "c"
activity = "phone_call"
points = 5
"#;
    let got = shown(text, None);
    assert_eq!(got.len(), 4, "{got:#?}");
    assert!(
        got[0].starts_with("r.toml:2:1: error: unknown key `colour`"),
        "{got:#?}"
    );
    assert!(
        got[1].starts_with("r.toml:9:10: error: invalid type: string \"ten\", expected f64"),
        "{got:#?}"
    );
    assert!(
        got[2].starts_with("r.toml:14:1: error: unknown field `pionts`"),
        "{got:#?}"
    );
    assert!(
        got[3].starts_with("r.toml:19:12: error: unknown variant `phone_call`"),
        "{got:#?}"
    );
}

#[test]
fn syntax_errors_have_positions() {
    let got = shown("[stages]\nmql = = 3\n", None);
    assert!(!got.is_empty());
    assert!(got[0].starts_with("r.toml:2:"), "{got:#?}");
}

#[test]
fn missing_stages_is_an_error() {
    assert_eq!(
        shown("version = 1\n", None),
        ["r.toml:1:1: error: missing `[stages]` table (it needs at least `mql = <points>`)"]
    );
}

#[test]
fn semantic_problems_are_all_reported_with_positions() {
    let text = r#"version = 2

[stages]
mql = 100
sql = { framework = "bnat" }

[[fit]]
id = "size"
points = 10
when = { field = "employees", min = 1000, max = 200 }

[[fit]]
id = "size"
points = 5
when = { field = "job_title", pattern = "(unclosed" }

[[fit]]
id = "two_ops"
points = 5
when = { field = "industry", equals = "saas", one_of = ["x"] }

[[fit]]
id = "senior"
points = 5
when = { field = "seniority", equals = "boss" }

[[gates]]
id = "g"
require = { field = "score", min = 5 }

[[engagement]]
id = "e"
activity = "demo_request"
points = 25
cap = 25
"#;
    let got = shown(text, None);
    let expected = [
        "r.toml:1:1: error: unsupported format version 2, expected 1",
        "r.toml:4:1: error: threshold 100 cannot be reached: the most points any lead can get is 50",
        "r.toml:5:9: error: unknown framework `bnat` (defined: )",
        "r.toml:10:31: error: bad range: min 1000 > max 200",
        "r.toml:13:1: error: duplicate rule id `size` (first used on line 8)",
        "r.toml:15:31: error: bad pattern:",
        "r.toml:20:1: error: one operator per condition, found equals, one_of; combine them with `all = [...]`",
        "r.toml:25:31: error: unknown seniority \"boss\", expected one of: intern, individual_contributor, manager, director, vp, c_level",
        "r.toml:29:13: error: `score` is computed by the engine; it can be read in [stages] and [[routes]] only",
    ];
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for (g, e) in got.iter().zip(expected) {
        assert!(g.starts_with(e), "got {g:?}\nwant {e:?}");
    }
    let file = RulesFile::parse(text, "r.toml").expect("structurally fine");
    let err = CompiledRules::compile(&file).expect_err("semantic errors stop compilation");
    assert_eq!(err.problems().len(), expected.len());
}

#[test]
fn unknown_fields_are_checked_against_a_schema() {
    let text = r#"
[stages]
mql = 10

[[fit]]
id = "origin"
points = 10
when = { field = "lead origin", equals = "Lead Add Form" }

[[fit]]
id = "visits"
points = 10
when = { field = "TotalVisits", min = 5 }

[[engagement]]
id = "demo"
activity = "demo_request"
points = 5
"#;
    let known: Vec<String> = ["Lead Origin", "TotalVisits"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let problems = check_text(text, "r.toml", Some(&known));
    let got: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        got,
        [
            "r.toml:8:10: error: unknown field `lead origin` (did you mean `Lead Origin`?)",
            "r.toml:17:1: warning: the data has no `demo_request_count` column: this rule never fires",
        ]
    );
    assert_eq!(problems[1].severity, Severity::Warning);
    assert!(
        check_text(text, "r.toml", None).is_empty(),
        "without a schema any field may be an extra"
    );
}

#[test]
fn misplaced_top_level_key_gets_a_hint() {
    let got = shown(
        "[stages]\nmql = 1\n\n[[routes]]\nid = \"r\"\nwhen = { field = \"stage\", equals = \"MQL\" }\ndefault_route = \"x\"\n",
        None,
    );
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].contains("must come before the first [table]"),
        "{got:#?}"
    );
}

#[test]
fn shipped_rules_files_are_clean() {
    for path in [
        "rules/default.toml",
        "rules/examples/ebook-webinar.toml",
        "rules/examples/gates-uk-eu.toml",
        "docs/examples/xeducation-rules.toml",
    ] {
        let full = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&full).expect("readable");
        let problems = check_text(&text, path, None);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

#[test]
fn toml_blocks_in_the_docs_compile() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rules.md"))
        .expect("docs");
    let mut blocks = 0;
    for (i, block) in docs.split("```toml\n").skip(1).enumerate() {
        let body = block.split("```").next().unwrap_or_default();
        if body.contains("# fragment") {
            continue;
        }
        blocks += 1;
        if let Err(e) = CompiledRules::from_text(body, &format!("docs block {i}")) {
            panic!("{e}\n{body}");
        }
    }
    assert!(blocks >= 2);
}
