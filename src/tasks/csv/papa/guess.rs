//! What Papa Parse guesses or fixes before and after the scan: the line break, the
//! delimiter, repeated header names, empty lines.

use super::scan::{Scanner, UNITS_PER_PART};
use super::search::{index_of, is_blank, split_lazily, text};
use super::{Cell, Options, SkipEmptyLines, Text, BOM, QUOTE, RECORD_SEP, UNIT_SEP};
use crate::pool::Ctx;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// Renames repeated header names `name_1`, `name_2`, … (skipping names already taken),
/// after stripping a BOM; returns new name → original, or None if nothing was renamed.
pub(super) fn rename_headers(row: &mut [Cell<'_>]) -> Option<Vec<(Text, Text)>> {
    let mut used: HashSet<Text> = row.iter().map(|c| c.to_vec()).collect();
    let mut counts: HashMap<Text, usize> = HashMap::new();
    let mut renamed = Vec::new();
    for field in row.iter_mut() {
        let header = field.strip_prefix(&[BOM]).unwrap_or(field).to_vec();
        match counts.get(&header).copied() {
            None | Some(0) => {
                counts.insert(header.clone(), 1);
                *field = Cow::Owned(header.clone());
            }
            Some(mut suffix) => {
                let new = loop {
                    let mut candidate = header.clone();
                    candidate.extend(text(&format!("_{suffix}")));
                    suffix += 1;
                    if !used.contains(&candidate) {
                        break candidate;
                    }
                };
                used.insert(new.clone());
                *field = Cow::Owned(new.clone());
                *counts.get_mut(&header).expect("counted above") += 1;
                renamed.push((new, header.clone()));
            }
        }
        used.insert(header);
    }
    (!renamed.is_empty()).then_some(renamed)
}

/// `guessLineEndings`: looks at the first MiB with quoted stretches removed.
pub(super) fn guess_line_endings(input: &[u16], quote: u16) -> Text {
    let head = &input[..input.len().min(1 << 20)];
    let mut unquoted = Vec::with_capacity(head.len());
    let mut i = 0;
    loop {
        let Some(open) = index_of(head, &[quote], i) else {
            unquoted.extend_from_slice(&head[i..]);
            break;
        };
        let Some(close) = index_of(head, &[quote], open + 1) else {
            unquoted.extend_from_slice(&head[i..]);
            break;
        };
        unquoted.extend_from_slice(&head[i..open]);
        i = close + 1;
    }
    let r: Vec<_> = split_lazily(&unquoted, &[0x0d]).collect();
    let n: Vec<_> = split_lazily(&unquoted, &[0x0a]).collect();
    let n_appears_first = n.len() > 1 && n[0].len() < r[0].len();
    if r.len() == 1 || n_appears_first {
        return vec![0x0a];
    }
    let with_n = r.iter().filter(|part| part.first() == Some(&0x0a)).count();
    if with_n as f64 >= r.len() as f64 / 2.0 {
        vec![0x0d, 0x0a]
    } else {
        vec![0x0d]
    }
}

pub(super) fn is_empty_line(row: &[Cell<'_>], skip: SkipEmptyLines) -> bool {
    match skip {
        SkipEmptyLines::Greedy => row.iter().all(|f| is_blank(f)),
        _ => row.len() == 1 && row[0].is_empty(),
    }
}

/// `guessDelimiter`: the candidate whose first ten rows have the most even field counts
/// (more fields breaking ties), if it averages about two fields or more.
pub(super) fn guess_delimiter(
    input: &[u16],
    newline: &[u16],
    options: &Options,
    ctx: &Ctx,
) -> Result<Option<Text>, String> {
    let candidates = options.delimiters_to_guess.clone().unwrap_or_else(|| {
        vec![
            text(","),
            text("\t"),
            text("|"),
            text(";"),
            vec![RECORD_SEP],
            vec![UNIT_SEP],
        ]
    });
    let mut best: Option<(Text, f64, f64)> = None; // delimiter, delta, average field count
    for delim in candidates {
        let preview = Scanner::new(
            input,
            &delim,
            newline,
            options.comments.as_deref(),
            10,
            None,
            QUOTE,
            QUOTE,
            false,
        )?
        .scan(ctx, UNITS_PER_PART);
        let (mut delta, mut total, mut empty_lines) = (0usize, 0usize, 0usize);
        let mut previous: Option<usize> = None;
        for row in preview.data.rows() {
            if options.skip_empty_lines != SkipEmptyLines::No
                && is_empty_line(row, options.skip_empty_lines)
            {
                empty_lines += 1;
                continue;
            }
            let count = row.len();
            total += count;
            match previous {
                None => previous = Some(count),
                Some(before) if count > 0 => {
                    delta += count.abs_diff(before);
                    previous = Some(count);
                }
                Some(_) => {}
            }
        }
        let average = if preview.data.len() == 0 {
            0.0
        } else {
            total as f64 / (preview.data.len() - empty_lines) as f64
        };
        let delta = delta as f64;
        let better = match &best {
            None => true,
            Some((_, best_delta, best_average)) => {
                delta < *best_delta || (delta == *best_delta && average > *best_average)
            }
        };
        if average > 1.99 && better {
            best = Some((delim, delta, average));
        }
    }
    Ok(best.map(|(delim, _, _)| delim))
}
