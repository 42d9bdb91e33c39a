//! Tables of records: `parse_csv` (Python's `csv.DictReader`), `tabulate` to Markdown, HTML, CSV
//! or XML, and the Markdown list/task/table formatters, after Tracecat's `formatters.py`.
//!
//! CSV follows Python's `excel` dialect: `,` delimiter, `"` quoting with doubled quotes, minimal
//! quoting and `\r\n` line ends when writing.

use serde_json::{Map, Value};

use super::{arity, list_at, opt_bool_at, str_at, string, value_error};
use crate::expr::ExprError;
use crate::expr::value::{python_str, repr_str, typename};

/// Python's `csv.field_size_limit()` default.
const FIELD_LIMIT: usize = 131_072;

/// Python's `str.splitlines()`: every Unicode line boundary, `\r\n` counted once, and no empty
/// line after a final line break.
fn splitlines(s: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let boundary = matches!(
            c,
            '\n' | '\r'
                | '\u{0b}'
                | '\u{0c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if !boundary {
            continue;
        }
        lines.push(&s[start..i]);
        start = i + c.len_utf8();
        if c == '\r' && chars.peek().is_some_and(|(_, n)| *n == '\n') {
            chars.next();
            start += 1;
        }
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

#[derive(Clone, Copy, PartialEq)]
enum CsvState {
    StartRecord,
    StartField,
    InField,
    InQuotedField,
    QuoteInQuotedField,
}

/// Python's `csv.reader` over already split lines (non-strict `excel` dialect). As in
/// `csv.DictReader(x.splitlines())`, a quoted field spanning lines loses its line breaks,
/// because `splitlines` removed them before the reader saw the text.
fn read_csv(lines: &[&str]) -> Result<Vec<Vec<String>>, ExprError> {
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut state = CsvState::StartRecord;
    let save = |fields: &mut Vec<String>, field: &mut String| {
        fields.push(std::mem::take(field));
    };
    for line in lines {
        // `None` stands for the end of the line.
        for c in line.chars().map(Some).chain([None]) {
            use CsvState::*;
            match (state, c) {
                (StartRecord, None) => {
                    // An empty line: an empty record, which DictReader skips.
                    records.push(Vec::new());
                    continue;
                }
                (StartRecord, Some(_)) => state = StartField,
                _ => {}
            }
            match (state, c) {
                (StartField, None) | (InField, None) | (QuoteInQuotedField, None) => {
                    save(&mut fields, &mut field);
                    records.push(std::mem::take(&mut fields));
                    state = StartRecord;
                }
                (StartField, Some('"')) => state = InQuotedField,
                (StartField | InField | QuoteInQuotedField, Some(',')) => {
                    save(&mut fields, &mut field);
                    state = StartField;
                }
                (StartField | InField, Some(ch)) => {
                    field.push(ch);
                    state = InField;
                }
                (InQuotedField, None) => {}
                (InQuotedField, Some('"')) => state = QuoteInQuotedField,
                (InQuotedField, Some(ch)) => field.push(ch),
                (QuoteInQuotedField, Some('"')) => {
                    field.push('"');
                    state = InQuotedField;
                }
                (QuoteInQuotedField, Some(ch)) => {
                    field.push(ch);
                    state = InField;
                }
                (StartRecord, _) => {}
            }
            if field.len() > FIELD_LIMIT {
                return Err(ExprError::Value {
                    msg: format!("field larger than field limit ({FIELD_LIMIT})"),
                });
            }
        }
    }
    // Input ending inside a quoted field: the non-strict reader keeps what it has.
    if state != CsvState::StartRecord {
        save(&mut fields, &mut field);
        records.push(fields);
    }
    Ok(records)
}

/// `parse_csv(x)`: `[dict(row) for row in csv.DictReader(x.splitlines())]`. The first row is the
/// header; missing cells are `None`, extra cells are a list under the key `null` (DictReader's
/// `None` restkey as JSON writes it), and a repeated header keeps its last cell.
pub(super) fn parse_csv(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let records = read_csv(&splitlines(str_at(args, 0)?))?;
    let mut rows = records.into_iter();
    let Some(header) = rows.next() else {
        return Ok(Value::Array(Vec::new()));
    };
    let out = rows
        .filter(|r| !r.is_empty())
        .map(|row| {
            let mut map = Map::new();
            for (i, key) in header.iter().enumerate() {
                map.insert(
                    key.clone(),
                    row.get(i).cloned().map_or(Value::Null, Value::String),
                );
            }
            if row.len() > header.len() {
                let rest = row[header.len()..].iter().cloned().map(Value::String);
                map.insert("null".to_owned(), Value::Array(rest.collect()));
            }
            Value::Object(map)
        })
        .collect();
    Ok(Value::Array(out))
}

fn records_at(args: &[Value], i: usize) -> Result<Vec<&Map<String, Value>>, ExprError> {
    list_at(args, i)?
        .iter()
        .map(|item| match item {
            Value::Object(map) => Ok(map),
            other => Err(ExprError::Type {
                msg: format!(
                    "argument {} must be a list of dicts, not a list containing {}",
                    i + 1,
                    typename(other)
                ),
            }),
        })
        .collect()
}

/// Every key of every record, sorted (Tracecat's `sorted(all_keys)`).
fn sorted_keys<'a>(records: &[&'a Map<String, Value>]) -> Vec<&'a str> {
    let mut keys: Vec<&str> = records
        .iter()
        .flat_map(|r| r.keys().map(String::as_str))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

fn markdown_table(records: &[&Map<String, Value>]) -> String {
    let headers = sorted_keys(records);
    if headers.is_empty() {
        return String::new();
    }
    let row = |cells: Vec<String>| format!("|{}|", cells.join("|"));
    let mut lines = vec![
        row(headers.iter().map(|h| (*h).to_owned()).collect()),
        row(headers.iter().map(|_| "-".to_owned()).collect()),
    ];
    for record in records {
        lines.push(row(headers
            .iter()
            .map(|h| match record.get(*h) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) if s.is_empty() => String::new(),
                Some(v) => python_str(v),
            })
            .collect()));
    }
    lines.join("\n")
}

/// Python's `html.escape(s, quote=True)`.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

fn html_table(records: &[&Map<String, Value>]) -> String {
    let headers = sorted_keys(records);
    let mut out = vec!["<table>".to_owned(), "  <thead>".into(), "    <tr>".into()];
    out.extend(
        headers
            .iter()
            .map(|h| format!("      <th>{}</th>", html_escape(h))),
    );
    out.extend(["    </tr>".into(), "  </thead>".into(), "  <tbody>".into()]);
    for record in records {
        out.push("    <tr>".into());
        for h in &headers {
            // `item.get(key, "")`: a missing cell is empty, a present `None` prints as "None".
            let cell = record.get(*h).map(python_str).unwrap_or_default();
            out.push(format!("      <td>{}</td>", html_escape(&cell)));
        }
        out.push("    </tr>".into());
    }
    out.extend(["  </tbody>".into(), "</table>".into()]);
    out.join("\n")
}

/// One CSV cell as Python's writer prints it: minimal quoting, doubled quotes.
fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn csv_row(cells: &[String]) -> String {
    // Python quotes a record that is one empty field, or it would read back as no record.
    if let [only] = cells
        && only.is_empty()
    {
        return "\"\"\r\n".to_owned();
    }
    let joined: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
    format!("{}\r\n", joined.join(","))
}

fn csv_table(records: &[&Map<String, Value>]) -> String {
    let headers = sorted_keys(records);
    let mut out = csv_row(&headers.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
    for record in records {
        let cells: Vec<String> = headers
            .iter()
            .map(|h| match record.get(*h) {
                None | Some(Value::Null) => String::new(),
                Some(v) => python_str(v),
            })
            .collect();
        out.push_str(&csv_row(&cells));
    }
    out
}

/// Whether `name` is an XML element name (Python's expat rejects the document otherwise).
fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | ':' | '\u{b7}'))
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// Text as minidom writes it after parsing ElementTree's output: line ends normalised to `\n`,
/// and `& < " >` escaped.
fn xml_text(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
        .replace('>', "&gt;")
}

/// `ElementTree` → `minidom.toprettyxml(indent="  ")`: keys in record order (not sorted), an
/// empty or `None` value as a self-closing element.
fn xml_table(records: &[&Map<String, Value>]) -> Result<String, ExprError> {
    let mut out = String::from("<?xml version=\"1.0\" ?>\n<items>\n");
    for record in records {
        if record.is_empty() {
            out.push_str("  <item/>\n");
            continue;
        }
        out.push_str("  <item>\n");
        for (key, value) in *record {
            if !is_xml_name(key) {
                return Err(value_error(format!(
                    "cannot write key {} as an XML element name",
                    repr_str(key)
                )));
            }
            let text = match value {
                Value::Null => String::new(),
                other => python_str(other),
            };
            if !text.chars().all(is_xml_char) {
                return Err(value_error(format!(
                    "value of {} has characters XML cannot hold",
                    repr_str(key)
                )));
            }
            if text.is_empty() {
                out.push_str(&format!("    <{key}/>\n"));
            } else {
                out.push_str(&format!("    <{key}>{}</{key}>\n", xml_text(&text)));
            }
        }
        out.push_str("  </item>\n");
    }
    out.push_str("</items>\n");
    Ok(out)
}

/// `tabulate(x, format)`: a list of dicts as `markdown`, `html`, `csv` or `xml`; columns are
/// the sorted union of keys (XML keeps each record's own keys in order).
pub(super) fn tabulate(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    let records = records_at(args, 0)?;
    let format = str_at(args, 1)?;
    let known = ["markdown", "html", "csv", "xml"];
    if !known.contains(&format) {
        return Err(value_error(format!(
            "Unsupported table format. Expected `markdown`, `html`, `csv`, or `xml`, got {format}."
        )));
    }
    if records.is_empty() {
        return string("");
    }
    string(match format {
        "markdown" => markdown_table(&records),
        "html" => html_table(&records),
        "csv" => csv_table(&records),
        _ => xml_table(&records)?,
    })
}

/// `to_markdown_table(x)`: a list of dicts as a pipe table with sorted columns.
pub(super) fn to_markdown_table(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    string(markdown_table(&records_at(args, 0)?))
}

/// `to_markdown_list(x, ordered=False)`: `- item` lines, or `1. item` when ordered.
pub(super) fn to_markdown_list(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let items = list_at(args, 0)?;
    let ordered = opt_bool_at(args, 1)?;
    let lines: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            if ordered {
                format!("{}. {}", i + 1, python_str(item))
            } else {
                format!("- {}", python_str(item))
            }
        })
        .collect();
    string(lines.join("\n"))
}

/// `to_markdown_tasks(x)`: unchecked `- [ ] item` lines.
pub(super) fn to_markdown_tasks(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let lines: Vec<String> = list_at(args, 0)?
        .iter()
        .map(|item| format!("- [ ] {}", python_str(item)))
        .collect();
    string(lines.join("\n"))
}
