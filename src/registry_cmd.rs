//! `ferrocat registry check DIR…`: reads every template action (Tracecat's format) under each
//! folder, checks them as one registry would load them, prints the counts and each problem
//! with its file and line, and exits 1 when there is any.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use ferrocat_registry::template::load;

/// `ferrocat registry …`.
#[derive(Args)]
pub struct RegistryArgs {
    #[command(subcommand)]
    command: RegistryCommand,
}

#[derive(Subcommand)]
enum RegistryCommand {
    /// Check every template under each folder; exit 1 on any problem.
    Check {
        /// Folders of `*.yml` / `*.yaml` template files (searched at any depth).
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
    },
}

/// Runs the subcommand.
pub fn run(args: RegistryArgs) -> ExitCode {
    let RegistryCommand::Check { dirs } = args.command;
    let table = ferrocat_registry::global();
    let mut failed = false;
    for dir in dirs {
        let sources = match load::read_dir(&dir) {
            Ok(sources) => sources,
            Err(problem) => {
                eprintln!("ferrocat: {problem}");
                failed = true;
                continue;
            }
        };
        match load::prepare(&sources, table, "check") {
            Ok(set) => {
                println!(
                    "{}: {} files, {} actions in {} namespaces, no problems",
                    dir.display(),
                    set.files,
                    set.actions.len(),
                    set.namespaces().len()
                );
            }
            Err(problems) => {
                failed = true;
                for problem in &problems {
                    println!("{problem}");
                }
                let files: std::collections::BTreeSet<&str> = problems.iter().map(|p| p.path.as_str()).collect();
                println!("{}: {} files, {} problems in {} of them", dir.display(), sources.len(), problems.len(), files.len());
            }
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
