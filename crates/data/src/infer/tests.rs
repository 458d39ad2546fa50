use super::*;

fn text(values: &[&str]) -> RawColumn {
    RawColumn::Text(values.iter().map(|v| Some(v.to_string())).collect())
}

fn table() -> RawTable {
    let n = 200;
    let labels: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
    let mut t = RawTable::new();
    t.push(
        "converted",
        RawColumn::Number(
            labels
                .iter()
                .map(|&y| Some(f64::from(u8::from(y))))
                .collect(),
        ),
    )
    .expect("col");
    t.push(
        "lead_id",
        RawColumn::Text((0..n).map(|i| Some(format!("L{i}"))).collect()),
    )
    .expect("col");
    t.push(
        "lead_number",
        RawColumn::Number((0..n).map(|i| Some(f64::from(1000 + i))).collect()),
    )
    .expect("col");
    t.push(
        "industry",
        text(
            &(0..n)
                .map(|i| ["saas", "retail", "Select", ""][i as usize % 4])
                .collect::<Vec<_>>(),
        ),
    )
    .expect("col");
    t.push(
        "visits",
        text(
            &(0..n)
                .map(|i| {
                    if i % 7 == 0 {
                        "Select".to_string()
                    } else {
                        (i % 5).to_string()
                    }
                })
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        ),
    )
    .expect("col");
    t.push(
        "do_not_email",
        text(
            &(0..n)
                .map(|i| if i % 2 == 0 { "Yes" } else { "No" })
                .collect::<Vec<_>>(),
        ),
    )
    .expect("col");
    t.push(
        "stack",
        text(
            &(0..n)
                .map(|i| ["a;b", "b", "a;c", "c"][i as usize % 4])
                .collect::<Vec<_>>(),
        ),
    )
    .expect("col");
    t.push("magazine", text(&vec!["No"; n as usize]))
        .expect("col");
    t.push(
        "outcome_tag",
        text(
            &labels
                .iter()
                .map(|&y| if y { "Closed won" } else { "Lost" })
                .collect::<Vec<_>>(),
        ),
    )
    .expect("col");
    t
}

#[test]
fn infers_types_roles_and_warnings() {
    let options = InferOptions {
        label: Some("converted".into()),
        id: Some("lead_id".into()),
        time: None,
    };
    let inferred = infer_schema(&table(), &options).expect("infer");
    let s = &inferred.schema;
    let col = |n: &str| s.column(n).expect(n);
    assert_eq!(col("converted").role, Role::Label);
    assert_eq!(col("lead_id").role, Role::Id);
    assert_eq!(
        col("lead_number").role,
        Role::Ignore,
        "unique integers look like an id"
    );
    assert_eq!(col("industry").kind, Some(ColumnType::Categorical));
    assert_eq!(
        col("visits").kind,
        Some(ColumnType::Numeric),
        "\"Select\" is read as missing"
    );
    assert_eq!(col("do_not_email").kind, Some(ColumnType::Boolean));
    assert_eq!(col("stack").kind, Some(ColumnType::Set));
    assert_eq!(col("magazine").role, Role::Ignore, "constant");
    assert_eq!(col("outcome_tag").role, Role::Ignore, "leakage");
    assert!(inferred.notes["outcome_tag"].warnings[0].contains("leakage"));

    let toml = to_commented_toml(&inferred, "t.csv");
    assert!(toml.contains("# WARNING: probable leakage"), "{toml}");
    let back = Schema::from_toml(&toml, "inferred").expect("the commented TOML parses");
    assert_eq!(&back, s);
}

#[test]
fn unknown_columns_are_errors() {
    let options = InferOptions {
        label: Some("nope".into()),
        ..InferOptions::default()
    };
    assert!(
        infer_schema(&table(), &options)
            .expect_err("label")
            .to_string()
            .contains("nope")
    );
    let options = InferOptions {
        label: Some("converted".into()),
        id: Some("ident".into()),
        time: None,
    };
    assert!(
        infer_schema(&table(), &options)
            .expect_err("id")
            .to_string()
            .contains("ident")
    );
}

/// A leads table (a history's): no label; the schema gets a `[history]` section with the
/// contract's column names, an id and the creation time, and reads back from its TOML.
#[test]
fn a_leads_table_without_a_label_gets_a_history_section() {
    let mut t = table();
    t.push(
        "created_at",
        RawColumn::Text(
            (0..t.rows())
                .map(|i| Some(format!("2026-01-{:02}", 1 + i % 28)))
                .collect(),
        ),
    )
    .expect("col");
    let options = InferOptions {
        label: None,
        id: Some("lead_id".into()),
        time: None,
    };
    let inferred = infer_schema(&t, &options).expect("infer");
    let s = &inferred.schema;
    assert_eq!(s.label(), None);
    assert_eq!(s.time(), Some("created_at"));
    assert_eq!(
        s.history.as_ref().map(|h| h.events.kind.as_str()),
        Some("type")
    );
    assert_eq!(
        s.column("outcome_tag").map(|c| c.role),
        Some(Role::Feature),
        "no leakage check without labels"
    );
    let toml = to_commented_toml(&inferred, "leads.csv");
    assert!(toml.contains("[history.events]"), "{toml}");
    let back = Schema::from_toml(&toml, "inferred").expect("the commented TOML parses");
    assert_eq!(&back, s);
}
