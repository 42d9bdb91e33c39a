//! `ferrocat run FILE`: validate a workflow file and run it in-process with the same interpreter
//! and actions as the server, printing the result. Exit codes: 0 done, 1 the run failed,
//! 2 the file or an input is invalid.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::{Map, Value, json};

use ferrocat_dsl::Workflow;

/// Options of `ferrocat run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Workflow definition (YAML or JSON; Tracecat's export format accepted).
    file: PathBuf,
    /// Trigger payload as JSON (`TRIGGER` in expressions).
    #[arg(long, alias = "input", conflicts_with = "trigger_file")]
    trigger: Option<String>,
    /// Read the trigger payload from a JSON file.
    #[arg(long)]
    trigger_file: Option<PathBuf>,
    /// Secrets for `SECRETS.name.KEY`, as a YAML or JSON file `{name: {KEY: value}}`.
    #[arg(long)]
    secrets: Option<PathBuf>,
    /// Variables for `VARS.name.key`, as a YAML or JSON file `{name: {key: value}}`.
    #[arg(long)]
    vars: Option<PathBuf>,
    /// What to print: the workflow's `returns` value, or the whole context (ACTIONS and TRIGGER).
    #[arg(long, value_enum, default_value_t = Output::Returns)]
    output: Output,
    /// Which addresses actions may connect to: `permissive` (anything but
    /// FERROCAT_EGRESS_DENY) or `strict` (as on the server: no loopback, link-local or the
    /// stack's services unless FERROCAT_EGRESS_ALLOW says so).
    #[arg(long, value_enum, default_value_t = Egress::Permissive)]
    egress: Egress,
    /// A folder of template actions (Tracecat's format) to run with, besides the built-in
    /// library; may be given more than once.
    #[arg(long, value_name = "DIR")]
    registry: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Egress {
    Permissive,
    Strict,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Output {
    Returns,
    Context,
}

const EXIT_FAILED: u8 = 1;
const EXIT_INVALID: u8 = 2;

fn invalid(message: String) -> ExitCode {
    eprintln!("ferrocat: {message}");
    ExitCode::from(EXIT_INVALID)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// A `{name: {key: value}}` file (YAML or JSON), or nothing.
fn read_map(path: Option<&Path>, what: &str, key: &str) -> Result<Map<String, Value>, String> {
    let Some(path) = path else { return Ok(Map::new()) };
    let text = read(path)?;
    let map: Map<String, Value> = serde_yaml::from_str(&text)
        .map_err(|e| format!("{} is not a {what} file ({{name: {{{key}: value}}}}): {e}", path.display()))?;
    match map.iter().find(|(_, v)| !v.is_object()) {
        Some((name, _)) => Err(format!("{}: {what} '{name}' must be a mapping of {key}s to values", path.display())),
        None => Ok(map),
    }
}

/// Runs `args.file` and reports as described in the module docs.
pub async fn run(args: RunArgs) -> ExitCode {
    let text = match read(&args.file) {
        Ok(text) => text,
        Err(e) => return invalid(e),
    };
    let mut dsl = match Workflow::parse(&text) {
        Ok(dsl) => dsl,
        Err(e) => return invalid(format!("{}: {e}", args.file.display())),
    };
    // A definition exported from a server may name its registry versions: here the templates
    // come from --registry folders instead.
    dsl.registry_lock.clear();
    if let Err(problems) = ferrocat_registry::install_dirs(&args.registry) {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return invalid(format!("the registry does not load:\n  {}", lines.join("\n  ")));
    }
    let mut issues = dsl.validate().err().unwrap_or_default();
    issues.extend(ferrocat_registry::check_workflow(&dsl));
    if !issues.is_empty() {
        let lines: Vec<String> = issues.iter().map(ToString::to_string).collect();
        return invalid(format!("{} is not a valid workflow:\n  {}", args.file.display(), lines.join("\n  ")));
    }
    let trigger_text = match (&args.trigger, &args.trigger_file) {
        (Some(text), _) => text.clone(),
        (None, Some(path)) => match read(path) {
            Ok(text) => text,
            Err(e) => return invalid(e),
        },
        (None, None) => "null".to_owned(),
    };
    let trigger: Value = match serde_json::from_str(&trigger_text) {
        Ok(value) => value,
        Err(e) => return invalid(format!("the trigger is not valid JSON: {e}")),
    };
    let secrets = match read_map(args.secrets.as_deref(), "secrets", "KEY") {
        Ok(secrets) => secrets,
        Err(e) => return invalid(e),
    };
    let vars = match read_map(args.vars.as_deref(), "variables", "key") {
        Ok(vars) => vars,
        Err(e) => return invalid(e),
    };
    let egress = match args.egress {
        Egress::Permissive => ferrocat_shared::egress::Mode::Permissive,
        Egress::Strict => ferrocat_shared::egress::Mode::Strict,
    };
    match ferrocat_workers::workflow::local::run_locally_in(dsl, trigger.clone(), secrets, vars, egress).await {
        Ok(finished) => {
            let output = match args.output {
                Output::Returns => finished.value,
                Output::Context => json!({"ACTIONS": finished.actions, "TRIGGER": trigger}),
            };
            match serde_json::to_string_pretty(&output) {
                Ok(text) => {
                    println!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => invalid(format!("the result is not printable as JSON: {e}")),
            }
        }
        Err(failure) => {
            eprintln!("ferrocat: workflow failed ({}): {}", failure.type_name, failure.message);
            ExitCode::from(EXIT_FAILED)
        }
    }
}
