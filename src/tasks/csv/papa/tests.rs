use super::guess::rename_headers;
use super::search::{find_unit, index_of};
use super::typing::{float, is_iso_date};
use super::*;
use crate::pool::testing::never_cancelled;

fn strings(row: &[Value]) -> Vec<String> {
    row.iter()
        .map(|v| match v {
            Value::Text(t) => String::from_utf16_lossy(t),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn numbers_follow_papa_parse_s_pattern_and_range() {
    for (input, expected) in [
        ("1", Some(1.0)),
        (" -2.5e3 ", Some(-2500.0)),
        (".5", Some(0.5)),
        ("5.", Some(5.0)),
        ("1.e2", Some(100.0)),
    ] {
        assert_eq!(float(&text(input)), expected, "{input}");
    }
    for input in [
        "",
        "-",
        ".",
        "1e",
        "0x10",
        "1_0",
        "Infinity",
        "NaN",
        "1 2",
        "9007199254740992",
        "--1",
    ] {
        assert_eq!(float(&text(input)), None, "{input}");
    }
    assert_eq!(
        float(&text("9007199254740991")),
        Some(9_007_199_254_740_991.0)
    );
}

#[test]
fn iso_dates_as_papa_parse_s_regex_reads_them() {
    for date in [
        "2024-01-02T03:04Z",
        "2024-01-02T03:04:05Z",
        "2024-01-02T03:04:05.1+02:00",
        "2024-19-39T29:59-23:59",
    ] {
        assert!(is_iso_date(&text(date)), "{date}");
    }
    for not in [
        "2024-01-02",
        "2024-01-02T03:04",
        "2024-01-02T03:04:05.Z",
        "2024-01-02 03:04Z",
        "2024-01-02T03:04:05+0200",
    ] {
        assert!(!is_iso_date(&text(not)), "{not}");
    }
}

#[test]
fn line_endings_are_guessed_outside_quotes() {
    assert_eq!(
        guess_line_endings(&text("a\r\nb\r\nc"), QUOTE),
        text("\r\n")
    );
    assert_eq!(guess_line_endings(&text("a\rb\rc"), QUOTE), text("\r"));
    assert_eq!(guess_line_endings(&text("\"x\ry\"\na"), QUOTE), text("\n"));
    assert_eq!(guess_line_endings(&text("abc"), QUOTE), text("\n"));
}

#[test]
fn repeated_headers_are_renamed_around_taken_names() {
    let mut row: Vec<Cell> = ["a", "a", "a_1", "a"].map(|h| Cow::Owned(text(h))).to_vec();
    let renamed = rename_headers(&mut row).unwrap();
    let names: Vec<Text> = row.into_iter().map(Cow::into_owned).collect();
    assert_eq!(
        names,
        vec![text("a"), text("a_2"), text("a_1"), text("a_3")]
    );
    assert_eq!(
        renamed,
        vec![(text("a_2"), text("a")), (text("a_3"), text("a"))]
    );
}

#[test]
fn find_unit_finds_the_first_match_in_and_past_whole_blocks() {
    assert_eq!(find_unit(&[7u16; 100], 9), None);
    assert_eq!(find_unit(&[], 9), None);
    for at in [0, 31, 32, 63, 64, 95, 98] {
        let mut hay = vec![7u16; 100];
        hay[at] = 9;
        hay[99] = 9; // a later match must not be the one found
        assert_eq!(find_unit(&hay, 9), Some(at), "at {at}");
    }
    assert_eq!(index_of(&text("a,b,c"), &text(","), 2), Some(3));
}

#[test]
fn a_table_keeps_rows_apart_through_truncate_and_retain() {
    let mut table = Table::default();
    for row in [&[1, 2][..], &[], &[3], &[4, 5, 6]] {
        let start = table.cells.len();
        table.cells.extend_from_slice(row);
        table.end_row(start);
    }
    let kept = table.clone().retain_rows(|row| !row.is_empty());
    assert_eq!(
        kept.rows().collect::<Vec<_>>(),
        vec![&[1, 2][..], &[3], &[4, 5, 6]]
    );
    table.truncate(2);
    assert_eq!(table.rows().collect::<Vec<_>>(), vec![&[1, 2][..], &[]]);
    assert_eq!(table.cells, vec![1, 2]);
}

#[test]
fn quoted_fields_escapes_and_errors() {
    let input = text("\"a,b\",\"c\"\"d\"\n\"open");
    let results = parse(&input, &Options::default(), &never_cancelled()).unwrap();
    let rows: Vec<_> = results.data.rows().collect();
    assert_eq!(strings(rows[0]), vec!["a,b", "c\"d"]);
    assert_eq!(strings(rows[1]), vec!["open"]);
    assert_eq!(results.errors[0].code, "MissingQuotes");
    assert_eq!(
        (results.errors[0].row, results.errors[0].index),
        (Some(1), Some(14))
    );
    assert_eq!(results.cursor, 18);
}

#[test]
fn scanning_in_parts_gives_the_scan_of_the_whole() {
    // Inputs of every shape the alphabet allows: quoted fields across newlines,
    // doubled and stray quotes, comments, CRLF, blank lines, an unterminated quote.
    let alphabet = ['a', 'b', ',', '"', '\n', '\r', '#', ' '];
    let mut split = false;
    let mut seed = 7u64;
    let mut random = move |below: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % below
    };
    for case in 0..300 {
        let len = 1 + random(120);
        let input: String = (0..len).map(|_| alphabet[random(alphabet.len())]).collect();
        let input = text(&input);
        for (newline, comments, fast_mode) in [
            ("\n", None, None),
            ("\r\n", Some("#"), None),
            ("\n", Some("#"), Some(false)),
            ("\r", None, Some(true)),
        ] {
            let scanner = Scanner::new(
                &input,
                &text(","),
                &text(newline),
                comments.map(text).as_deref(),
                0,
                fast_mode,
                QUOTE,
                QUOTE,
                false,
            )
            .unwrap();
            let fast = fast_mode == Some(true) || (fast_mode.is_none() && !input.contains(&QUOTE));
            let whole = scanner.scan_from(fast, 0, usize::MAX);
            for units_per_part in [1, 2, 3, 5, 8, 13] {
                let mut parts = scanner.scan_in_parts(fast, &never_cancelled(), units_per_part);
                let what = format!("case {case}, {newline:?}, parts of {units_per_part}");
                let tables = parts.tables();
                split |= tables.len() > 1;
                let mut data = Table::default();
                for mut table in tables {
                    data.cells.append(&mut table.cells);
                    data.lengths.append(&mut table.lengths);
                }
                assert_eq!(data, whole.data, "{what}");
                assert_eq!(parts.errors, whole.errors, "{what}");
                assert_eq!(parts.cursor, whole.cursor, "{what}");
                assert_eq!(parts.stopped_at, None, "{what}");
            }
        }
    }
    assert!(split, "some inputs were scanned in more than one part");
}

#[test]
fn typing_in_chunks_gives_the_rows_and_errors_of_one_parse() {
    let input = text("a,b,c\n1,x,true\n2,y\n3,z,false,extra\n4,w,null\n5\n6,v,1e3\n");
    let options = Options {
        header: true,
        dynamic_typing: DynamicTyping::All,
        ..Options::default()
    };
    let whole = parse(&input, &options, &never_cancelled()).unwrap();
    for cells_per_part in [1, 2, 3, 5, 8, 100] {
        let mut parsing = Parsing::new(&input, &options, &never_cancelled()).unwrap();
        let data = parsing.rest_in_parts_of(&never_cancelled(), cells_per_part);
        assert_eq!(parsing.rows_left(), 0);
        let in_parts = Results {
            data,
            ..parsing.results
        };
        assert_eq!(in_parts, whole, "parts of {cells_per_part} cells");
    }
    for min_cells in [1, 2, 3, 5, 8] {
        let mut parsing = Parsing::new(&input, &options, &never_cancelled()).unwrap();
        let mut data = Table::default();
        while parsing.rows_left() > 0 {
            let chunk = parsing.next_rows(min_cells);
            assert!(
                !chunk.lengths.is_empty(),
                "a chunk of no rows at {min_cells}"
            );
            data.cells.extend(chunk.cells);
            data.lengths.extend(chunk.lengths);
        }
        assert_eq!(
            Results {
                data,
                ..parsing.results
            },
            whole,
            "chunks of at least {min_cells} cells"
        );
    }
    // Scanned in parts too: the header, blank lines and row numbers across parts.
    let options = Options {
        skip_empty_lines: SkipEmptyLines::Greedy,
        ..options
    };
    let serial = parse(&input, &options, &never_cancelled()).unwrap();
    for units_per_part in [1, 3, 7, 12] {
        let ctx = never_cancelled();
        let mut parsing =
            Parsing::scanned_in_parts_of(&input, &options, &ctx, units_per_part).unwrap();
        let mut data = parsing.next_rows(3);
        let mut rest = parsing.rest_in_parts_of(&ctx, 2);
        data.cells.append(&mut rest.cells);
        data.lengths.append(&mut rest.lengths);
        let results = Results {
            data,
            ..parsing.results
        };
        assert_eq!(
            results, serial,
            "scanned in parts of {units_per_part} units"
        );
    }
    let rows: Vec<_> = whole.errors.iter().map(|e| (e.code, e.row)).collect();
    assert_eq!(
        rows,
        vec![
            ("TooFewFields", Some(1)),
            ("TooManyFields", Some(2)),
            ("TooFewFields", Some(4)),
            // The empty line after the last newline, as Papa Parse reports it too.
            ("TooFewFields", Some(6))
        ]
    );
}
