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
        label: "converted".into(),
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
        label: "nope".into(),
        ..InferOptions::default()
    };
    assert!(
        infer_schema(&table(), &options)
            .expect_err("label")
            .contains("nope")
    );
    let options = InferOptions {
        label: "converted".into(),
        id: Some("ident".into()),
        time: None,
    };
    assert!(
        infer_schema(&table(), &options)
            .expect_err("id")
            .contains("ident")
    );
}
