//! Human tables by default, `--output json` for scripts: every command
//! builds one JSON report and, for humans, a rendering of it.

use std::io::Write;

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{ContentArrangement, Table};
use serde_json::Value;

use crate::error::OpsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// A table with a header row, sized to its content (no terminal probing:
/// output is often piped into a ticket or a file).
pub fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    table
}

/// Two columns, field and value, skipping absent values.
pub fn fields(rows: &[(&str, Option<String>)]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_content_arrangement(ContentArrangement::Disabled);
    for (name, value) in rows {
        if let Some(value) = value {
            table.add_row(vec![name.to_string(), value.clone()]);
        }
    }
    table
}

pub fn emit(
    out: &mut dyn Write,
    format: Format,
    report: &Value,
    human: impl FnOnce() -> String,
) -> Result<(), OpsError> {
    match format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(report).unwrap_or_default())?,
        Format::Table => write!(out, "{}", human())?,
    }
    Ok(())
}

/// A JSON value as one cell.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
