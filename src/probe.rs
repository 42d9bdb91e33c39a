//! `ferrocat probe URL`: a health check for images without a shell or curl (compose's
//! `healthcheck`, a systemd `ExecStartPost`). Exits 0 when the URL answers 2xx within the
//! timeout, 1 with one line saying what it got otherwise.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

#[derive(Args)]
pub struct ProbeArgs {
    /// The URL to GET (http or https), e.g. http://127.0.0.1:8000/health.
    url: reqwest::Url,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 5.0, value_parser = timeout)]
    timeout: f64,
}

fn timeout(given: &str) -> Result<f64, String> {
    match given.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 300.0 => Ok(secs),
        _ => Err(format!("{given:?} is not a number of seconds between 0 and 300")),
    }
}

pub async fn run(args: ProbeArgs) -> ExitCode {
    if !matches!(args.url.scheme(), "http" | "https") {
        eprintln!("ferrocat probe: {} is not an http(s) URL", args.url);
        return ExitCode::from(crate::EXIT_CONFIG);
    }
    // A client of its own, not the egress-checked one: the URL is the operator's (a health
    // check's command line, usually loopback), never anything a workflow can name.
    let client = reqwest::Client::builder().timeout(Duration::from_secs_f64(args.timeout)).redirect(reqwest::redirect::Policy::none()).build();
    let answer = match client {
        Ok(client) => client.get(args.url.clone()).send().await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(answer) if answer.status().is_success() => ExitCode::SUCCESS,
        Ok(answer) => {
            eprintln!("ferrocat probe: {} answered {}", args.url, answer.status());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("ferrocat probe: {}: {:#}", args.url, anyhow::Error::from(e));
            ExitCode::FAILURE
        }
    }
}
