//! CSV into lookup tables: a preview (the columns inferred from the headers and the cells,
//! with the first rows typed), a new table from a file, and rows appended to a table through a
//! mapping of headers to its columns. Types are inferred as Tracecat does, in this order:
//! boolean, integer, number, timestamp, JSON, falling back to text.

use serde_json::{Map, Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::{Column, NewColumn, NewTable, SYSTEM_COLUMNS, SqlType, Table, rows};
use crate::AppError;
use crate::checks::invalid;
use crate::column_types::timestamp;

/// Rows a preview shows.
pub const PREVIEW_ROWS: usize = 20;

/// A CSV file read whole: its headers and each record's cells.
#[derive(Debug)]
pub struct Csv {
    pub headers: Vec<String>,
    pub records: Vec<Vec<String>>,
}

/// Reads a CSV file (UTF-8, a header line first; short records are padded with empty cells).
pub fn parse(bytes: &[u8]) -> Result<Csv, AppError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| invalid("file", format!("the file is not CSV: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(invalid("file", "the file has no header line"));
    }
    let mut records = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| invalid("file", format!("line {} of the file is not CSV: {e}", i + 2)))?;
        if record.len() > headers.len() {
            return Err(invalid("file", format!("line {} has {} cells but the header names {}", i + 2, record.len(), headers.len())));
        }
        let mut cells: Vec<String> = record.iter().map(str::to_owned).collect();
        cells.resize(headers.len(), String::new());
        records.push(cells);
    }
    Ok(Csv { headers, records })
}

/// A header, the column it becomes and the type inferred for it.
#[derive(Debug, Clone)]
pub struct Inferred {
    pub index: usize,
    pub csv_header: String,
    pub field_name: String,
    pub field_type: SqlType,
}

impl Inferred {
    pub fn read_model(&self) -> Value {
        json!({"csv_header": self.csv_header, "field_name": self.field_name, "field_type": self.field_type.as_str()})
    }
}

/// `text` as an identifier: other characters become `_`, a leading digit gets one, at most 100.
pub fn identifier(text: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in text.trim().chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    let mut out = out.trim_matches('_').to_owned();
    if out.is_empty() {
        out = fallback.to_owned();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if let Some(rest) = out.strip_prefix("__tc_") {
        out = format!("tc_{rest}");
    }
    out.truncate(100);
    out
}

fn infer_type<'a>(cells: impl Iterator<Item = &'a str> + Clone) -> SqlType {
    let mut present = cells.filter(|c| !c.trim().is_empty()).map(str::trim).peekable();
    if present.peek().is_none() {
        return SqlType::Text;
    }
    let all = |test: fn(&str) -> bool| present.clone().all(test);
    if all(|c| c.eq_ignore_ascii_case("true") || c.eq_ignore_ascii_case("false")) {
        SqlType::Boolean
    } else if all(|c| c.parse::<i64>().is_ok()) {
        SqlType::Integer
    } else if all(|c| c.parse::<f64>().is_ok_and(f64::is_finite) && !c.contains(|ch: char| ch.is_ascii_alphabetic() && ch != 'e' && ch != 'E')) {
        SqlType::Numeric
    } else if all(|c| c.len() >= 10 && timestamp(c).is_some()) {
        SqlType::Timestamptz
    } else if all(|c| (c.starts_with('{') || c.starts_with('[')) && serde_json::from_str::<Value>(c).is_ok()) {
        SqlType::Jsonb
    } else {
        SqlType::Text
    }
}

/// The columns a new table from `csv` gets: one per header (the system columns `id`,
/// `created_at` and `updated_at`, as an export writes them, are left out), names made
/// identifiers and distinct.
pub fn infer(csv: &Csv) -> Vec<Inferred> {
    let mut taken: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (index, header) in csv.headers.iter().enumerate() {
        if SYSTEM_COLUMNS.contains(&header.as_str()) {
            continue;
        }
        let base = identifier(header, &format!("column_{}", index + 1));
        let base = if SYSTEM_COLUMNS.contains(&base.as_str()) { format!("{base}_1") } else { base };
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{}_{n}", &base[..base.len().min(95)]);
            n += 1;
        }
        taken.push(name.clone());
        let field_type = infer_type(csv.records.iter().map(|r| r[index].as_str()));
        out.push(Inferred { index, csv_header: header.clone(), field_name: name, field_type });
    }
    out
}

/// A cell as the JSON a column of `kind` is given: empty is null; JSON columns parse it.
fn cell_value(kind: SqlType, cell: &str) -> Value {
    if cell.trim().is_empty() {
        return Value::Null;
    }
    match kind {
        SqlType::Jsonb | SqlType::MultiSelect => serde_json::from_str(cell).unwrap_or_else(|_| Value::String(cell.to_owned())),
        _ => Value::String(cell.to_owned()),
    }
}

/// A coerced text as the JSON value a row shows.
fn typed(kind: SqlType, text: &str) -> Value {
    match kind {
        SqlType::Integer => text.parse::<i64>().map(Value::from).unwrap_or(Value::Null),
        SqlType::Numeric => text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or_else(|| json!(text)),
        SqlType::Boolean => json!(text == "true"),
        SqlType::Jsonb | SqlType::MultiSelect => serde_json::from_str(text).unwrap_or(Value::Null),
        _ => json!(text),
    }
}

/// What an import would make of `csv`: the inferred columns, the first rows typed, the count.
pub fn preview(csv: &Csv) -> Value {
    let columns = infer(csv);
    let rows: Vec<Value> = csv
        .records
        .iter()
        .take(PREVIEW_ROWS)
        .map(|record| {
            let row: Map<String, Value> = columns
                .iter()
                .map(|c| {
                    let text = c.field_type.coerce(&cell_value(c.field_type, &record[c.index]), &[]).ok().flatten();
                    (c.field_name.clone(), text.map(|t| typed(c.field_type, &t)).unwrap_or(Value::Null))
                })
                .collect();
            Value::Object(row)
        })
        .collect();
    json!({"columns": columns.iter().map(Inferred::read_model).collect::<Vec<_>>(), "rows": rows, "total_rows": csv.records.len()})
}

/// The rows of `csv` for `mapping` (header index → column).
fn records_as_rows(csv: &Csv, mapping: &[(usize, &Column)]) -> Vec<Map<String, Value>> {
    csv.records
        .iter()
        .map(|record| mapping.iter().map(|(index, column)| (column.name.clone(), cell_value(column.sql_type(), &record[*index]))).collect())
        .collect()
}

/// The first free table name from `base` (`base`, `base_1`, `base_2`, …).
async fn free_name(db: &PgPool, workspace_id: Uuid, base: &str) -> Result<String, AppError> {
    let taken: Vec<String> = sqlx::query_scalar("SELECT name FROM lookup_tables WHERE workspace_id = $1 AND (name = $2 OR name LIKE $3)")
        .bind(workspace_id)
        .bind(base)
        .bind(format!("{}\\_%", base.replace('_', "\\_")))
        .fetch_all(db)
        .await?;
    if !taken.iter().any(|t| t == base) {
        return Ok(base.to_owned());
    }
    let stem = &base[..base.len().min(94)];
    Ok((1..).map(|n| format!("{stem}_{n}")).find(|name| !taken.contains(name)).unwrap_or_default())
}

/// Creates a table from `csv` (named `table_name`, else after the file) with every row, all or
/// nothing; returns Tracecat's `{table, rows_inserted, column_mapping}`.
#[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
pub async fn new_table(db: &PgPool, workspace_id: Uuid, csv: &Csv, table_name: Option<&str>, file_name: &str) -> Result<Value, AppError> {
    let inferred = infer(csv);
    if inferred.is_empty() {
        return Err(invalid("file", "the file has no columns to import"));
    }
    let name = match table_name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(given) => {
            super::check_name("table_name", given)?;
            given.to_owned()
        }
        None => {
            let stem = file_name.rsplit_once('.').map(|(s, _)| s).unwrap_or(file_name);
            free_name(db, workspace_id, &identifier(stem, "imported")).await?
        }
    };
    let columns = inferred.iter().map(|c| NewColumn::plain(&c.field_name, c.field_type)).collect();
    let mut tx = db.begin().await?;
    let table = super::create_in(&mut tx, workspace_id, NewTable { name, columns }).await?;
    let mapping: Vec<(usize, &Column)> = inferred.iter().zip(&table.columns).map(|(i, c)| (i.index, c)).collect();
    let written = rows::write_rows(&mut tx, &table, records_as_rows(csv, &mapping), false, 1).await.map_err(csv_lines)?;
    tx.commit().await?;
    Ok(json!({
        "table": table.read_model(),
        "rows_inserted": written,
        "column_mapping": inferred.iter().map(Inferred::read_model).collect::<Vec<_>>(),
    }))
}

/// Refusals name CSV lines (the header is line 1) rather than row indexes.
fn csv_lines(error: AppError) -> AppError {
    match error {
        AppError::Unprocessable { detail, errors } => {
            let detail = match detail.strip_prefix("row ").and_then(|r| r.split_once(": ")) {
                Some((n, rest)) => n.parse::<usize>().map(|n| format!("line {}: {rest}", n + 1)).unwrap_or(detail.clone()),
                None => detail,
            };
            AppError::Unprocessable { detail, errors }
        }
        other => other,
    }
}

/// Appends the rows of `csv` to `table`, each header mapped to a column by `mapping`
/// (`{csv_header: column}`; a header mapped to null or "skip", or not mapped, is left out).
pub async fn into_table(db: &PgPool, table: &Table, csv: &Csv, mapping: &Map<String, Value>) -> Result<u64, AppError> {
    let mut pairs = Vec::new();
    for (header, target) in mapping {
        let Some(target) = target.as_str().filter(|t| !t.is_empty() && *t != "skip") else { continue };
        let index = csv.headers.iter().position(|h| h == header).ok_or_else(|| invalid("column_mapping", format!("the file has no header {header:?}")))?;
        let column = table.column(target).map_err(|_| invalid("column_mapping", format!("table {:?} has no column {target:?}", table.meta.name)))?;
        if pairs.iter().any(|(_, c): &(usize, &Column)| c.id == column.id) {
            return Err(invalid("column_mapping", format!("column {target:?} is mapped twice")));
        }
        pairs.push((index, column));
    }
    if pairs.is_empty() {
        return Err(invalid("column_mapping", "map at least one header to a column"));
    }
    let mut tx = db.begin().await?;
    let written = rows::write_rows(&mut tx, table, records_as_rows(csv, &pairs), false, 1).await.map_err(csv_lines)?;
    tx.commit().await?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_inferred_in_tracecats_order_and_headers_become_identifiers() {
        let csv = parse(b"\xEF\xBB\xBFid,IP Address,score,ratio,seen,vip,meta,1st,note\n\
            x,10.0.0.1,5,0.5,2026-12-06T10:00:00Z,true,{\"a\":1},a,\n\
            y,10.0.0.2,-3,2,2026-12-07 11:00:00,FALSE,[1],b,hello\n")
        .unwrap();
        let inferred = infer(&csv);
        let got: Vec<(&str, &str)> = inferred.iter().map(|c| (c.field_name.as_str(), c.field_type.as_str())).collect();
        assert_eq!(
            got,
            [("IP_Address", "TEXT"), ("score", "INTEGER"), ("ratio", "NUMERIC"), ("seen", "TIMESTAMPTZ"), ("vip", "BOOLEAN"), ("meta", "JSONB"), ("_1st", "TEXT"), ("note", "TEXT")]
        );
        let preview = preview(&csv);
        assert_eq!(preview["total_rows"], 2);
        assert_eq!(preview["rows"][1]["score"], -3);
        assert_eq!(preview["rows"][1]["vip"], false);
        assert_eq!(preview["rows"][0]["meta"], json!({"a": 1}));
        assert_eq!(preview["rows"][0]["note"], Value::Null);
        assert!(parse(b"a,b\n1,2,3\n").unwrap_err().to_string().contains("line 2"));
        assert_eq!(identifier("__tc_secret", "x"), "tc_secret");
        assert_eq!(identifier("  ", "column_3"), "column_3");
    }
}
