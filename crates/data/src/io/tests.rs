use super::*;
use qualify_core::value::RawValue;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn reads_every_delimiter_quotes_and_crlf() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in [
        ("comma.csv", "id,name,n\r\n1,\"Smith, J\",2.5\r\n2,Doe,\r\n"),
        ("semi.csv", "id;name;n\n1;\"Smith, J\";2.5\n2;Doe;\n"),
        ("tab.tsv", "id\tname\tn\n1\tSmith, J\t2.5\n2\tDoe\t\n"),
    ] {
        let t = read_table(&write(&dir, name, text), &ReadOptions::default()).expect(name);
        assert_eq!(t.names(), ["id", "name", "n"], "{name}");
        assert_eq!(
            t.column("name").expect("name").get(0),
            RawValue::Text("Smith, J".into()),
            "{name}"
        );
        assert_eq!(
            t.column("n").expect("n").get(0),
            RawValue::Number(2.5),
            "{name}"
        );
        assert_eq!(
            t.column("n").expect("n").get(1),
            RawValue::Missing,
            "{name}"
        );
    }
}

#[test]
fn late_text_makes_a_text_column_not_a_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("n\n");
    for i in 0..500 {
        text.push_str(&format!("{i}\n"));
    }
    text.push_str("lots\n");
    let t = read_table(&write(&dir, "late.csv", &text), &ReadOptions::default()).expect("read");
    assert_eq!(
        t.column("n").expect("n").get(500),
        RawValue::Text("lots".into())
    );
}

#[test]
fn bad_files_name_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = write(&dir, "empty.csv", "");
    assert!(
        read_table(&empty, &ReadOptions::default())
            .expect_err("empty")
            .to_string()
            .contains("empty.csv")
    );
    let header_only = write(&dir, "header.csv", "a,b\n");
    let err = read_table(&header_only, &ReadOptions::default())
        .expect_err("no rows")
        .to_string();
    assert!(
        err.contains("header.csv") && err.contains("no data rows"),
        "{err}"
    );
    let ragged = write(&dir, "ragged.csv", "a,b\n1,2\n1,2,3,4\n");
    assert!(
        read_table(&ragged, &ReadOptions::default())
            .expect_err("ragged")
            .to_string()
            .contains("ragged.csv")
    );
    let unknown = write(&dir, "x.xlsx", "");
    assert!(
        read_table(&unknown, &ReadOptions::default())
            .expect_err("type")
            .to_string()
            .contains(".parquet")
    );
    let corrupt = write(&dir, "bad.parquet", "not parquet at all");
    assert!(
        read_table(&corrupt, &ReadOptions::default())
            .expect_err("parquet")
            .to_string()
            .contains("bad.parquet")
    );
}

#[test]
fn csv_and_parquet_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut t = RawTable::new();
    t.push("n", RawColumn::Number(vec![Some(1.5), None]))
        .expect("col");
    t.push("b", RawColumn::Bool(vec![Some(true), None]))
        .expect("col");
    t.push("s", RawColumn::Text(vec![Some("a, \"b\"".into()), None]))
        .expect("col");
    for name in ["t.csv", "t.parquet"] {
        let path = dir.path().join(name);
        write_table(&path, &t).expect("write");
        assert_eq!(
            read_table(&path, &ReadOptions::default()).expect("read"),
            t,
            "{name}"
        );
    }
}

#[test]
fn schema_text_columns_keep_leading_zeros() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&dir, "zip.csv", "zip,n\n02134,1\n60601,2\n");
    let t = read_table(&path, &ReadOptions::default()).expect("read");
    assert_eq!(
        t.column("zip").expect("zip").get(0),
        RawValue::Number(2134.0)
    );
    let options = ReadOptions {
        text_columns: vec!["zip".into(), "absent".into()],
        ..ReadOptions::default()
    };
    let t = read_table(&path, &options).expect("read");
    assert_eq!(
        t.column("zip").expect("zip").get(0),
        RawValue::Text("02134".into())
    );
    assert_eq!(t.column("n").expect("n").get(0), RawValue::Number(1.0));
}

/// Issue 11, item 8: a row with extra fields failed with polars' "found more fields than
/// defined in 'Schema'", without the row.
#[test]
fn a_row_with_extra_fields_names_its_line_and_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&dir, "long.csv", "id,n\n1,2\n2,3\n3,4,5\n");
    let err = read_table(&path, &ReadOptions::default()).expect_err("extra field");
    assert!(
        matches!(err, DataError::LongRow { line: 4, row: 3, found: 3, expected: 2, ref last_column, .. } if last_column == "n"),
        "{err}"
    );
    assert!(err.to_string().contains("line 4 (data row 3)"), "{err}");
    let crlf = write(&dir, "long-crlf.csv", "id,n\r\n1,2\r\n2,3\r\n3,4,5\r\n");
    let err = read_table(&crlf, &ReadOptions::default()).expect_err("extra field");
    assert!(
        matches!(
            err,
            DataError::LongRow {
                line: 4,
                row: 3,
                ..
            }
        ),
        "{err}"
    );
}

/// Issue 11, R7: a short row was filled with nulls and scored; it is an error naming the
/// row and the first missing column. A quoted field spanning lines counts as one record.
#[test]
fn a_short_row_names_its_row_and_the_missing_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        &dir,
        "short.csv",
        "id,note,n,country\n1,\"two\nlines\",2,GB\n2,x\n",
    );
    let err = read_table(&path, &ReadOptions::default()).expect_err("short row");
    assert!(
        matches!(err, DataError::ShortRow { line: 4, row: 2, found: 2, ref column, .. } if column == "n"),
        "{err}"
    );
    assert!(err.to_string().contains("column \"n\""), "{err}");
}

/// Issue 11, R7: a duplicate header was renamed `country_duplicated_0` and trained on.
#[test]
fn a_duplicate_header_is_an_error_naming_the_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&dir, "dup.csv", "id;country;n;country\n1;GB;2;FR\n");
    let err = read_table(&path, &ReadOptions::default()).expect_err("duplicate");
    assert!(
        matches!(err, DataError::DuplicateColumn { ref column, first: 2, second: 4, .. } if column == "country"),
        "{err}"
    );
}

/// polars reads a blank line as a row of nulls (a lead scored on nothing): an error naming
/// the line, in the middle of a file and at its end.
#[test]
fn blank_lines_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (text, line) in [
        ("id,n\n1,2\n\n2,3\n", 3),
        ("id,n\n1,\"a\nb\"\n\n2,3\n", 4),
        ("id,n\r\n1,2\r\n2,3\r\n\r\n", 4),
    ] {
        let path = write(&dir, "blank.csv", text);
        let err = read_table(&path, &ReadOptions::default()).expect_err("blank line");
        assert!(
            matches!(err, DataError::BlankLine { line: l, .. } if l == line),
            "{text:?}: {err}"
        );
    }
    let path = write(&dir, "fine.csv", "id,n\n1,\"a\nb\"\n2,3");
    assert_eq!(
        read_table(&path, &ReadOptions::default())
            .expect("no blank line")
            .rows(),
        2
    );
}

#[test]
fn row_groups_cover_the_rows_and_give_each_core_one() {
    for (rows, cores) in [
        (0, 2),
        (1, 2),
        (100_000, 2),
        (131_072, 2),
        (1_000_000, 2),
        (1_000_000, 1),
        (2_000_000, 16),
        (600_000, 4),
    ] {
        let groups = row_groups(rows, cores);
        let covered: Vec<usize> = groups.iter().flat_map(Clone::clone).collect();
        assert_eq!(
            covered,
            (0..rows).collect::<Vec<_>>(),
            "{rows} rows, {cores} cores"
        );
        assert!(groups.iter().all(|g| g.len() <= ROW_GROUP_ROWS));
        let parallel = cores.min(rows / MIN_PARALLEL_ROW_GROUP_ROWS);
        assert!(
            groups.len() >= parallel,
            "{rows} rows, {cores} cores: {groups:?}"
        );
        if groups.len() > 1 {
            assert!(
                groups
                    .iter()
                    .all(|g| g.len() >= MIN_PARALLEL_ROW_GROUP_ROWS)
            );
        }
    }
    assert_eq!(row_groups(1_000_000, 2).len(), 4);
    assert_eq!(row_groups(100_000, 2).len(), 1);
}

/// A file written in row groups compressed side by side ([`write_parquet`]) holds what
/// polars' own writer writes, in the row groups asked for; with none, just the schema.
#[test]
fn parquet_written_in_parallel_row_groups_reads_as_polars_own_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rows = 1_000;
    let ids: Vec<Option<String>> = (0..rows)
        .map(|i| (i % 11 != 0).then(|| format!("lead-{i}")))
        .collect();
    let scores: Vec<Option<f64>> = (0..rows)
        .map(|i| (i % 7 != 0).then_some(i as f64 / 1_000.0))
        .collect();
    // Chunks that do not line up with the row groups: a slice that spans two is rechunked.
    let mut id = Column::new("id".into(), &ids[..400]);
    id.append(&Column::new("id".into(), &ids[400..]))
        .expect("append");
    let df =
        DataFrame::new(rows, vec![id, Column::new("propensity".into(), scores)]).expect("frame");
    let read = |path: &Path| {
        let mut reader = ParquetReader::new(File::open(path).expect("open"));
        let groups = reader.get_metadata().expect("metadata").row_groups.len();
        (reader.finish().expect("read"), groups)
    };

    let own = dir.path().join("own.parquet");
    ParquetWriter::new(File::create(&own).expect("create"))
        .finish(&mut df.clone())
        .expect("polars' write");
    let ours = dir.path().join("ours.parquet");
    let groups = [0..300, 300..650, 650..1_000];
    write_parquet(File::create(&ours).expect("create"), &df, &groups).expect("write");
    let (expected, _) = read(&own);
    let (got, n_groups) = read(&ours);
    assert!(got.equals_missing(&expected));
    assert_eq!(n_groups, 3);

    let empty = dir.path().join("empty.parquet");
    write_parquet(
        File::create(&empty).expect("create"),
        &df.head(Some(0)),
        &[],
    )
    .expect("write");
    let (got, n_groups) = read(&empty);
    assert_eq!((got.height(), n_groups), (0, 0));
    assert_eq!(got.schema(), df.schema());
}
