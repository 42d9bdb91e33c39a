//! `ferrocat run FILE`: validate a workflow file and run it in-process, printing the result.

use std::path::Path;

use anyhow::{Context as _, bail};

use ferrocat_shared::dsl::Workflow;

/// Parses, validates and runs `file` with `input` as `TRIGGER`.
pub async fn run(file: &Path, input: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let dsl = Workflow::parse(&text).with_context(|| format!("parsing {}", file.display()))?;
    if let Err(issues) = dsl.validate() {
        let lines: Vec<String> = issues.iter().map(ToString::to_string).collect();
        bail!("{} is not a valid workflow:\n  {}", file.display(), lines.join("\n  "));
    }
    let trigger: serde_json::Value = serde_json::from_str(input).context("--input is not valid JSON")?;
    match ferrocat_workers::workflow::local::run_locally(dsl, trigger).await {
        Ok(value) => {
            println!("{}", serde_json::to_string_pretty(&value)?);
            Ok(())
        }
        Err(failure) => bail!("workflow failed ({}): {}", failure.type_name, failure.message),
    }
}
