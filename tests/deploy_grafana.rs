//! deploy/grafana/ferrocat.json: valid dashboard JSON whose every query names a metric that a
//! service registers (the shared registry, the edge's, the model gateway's), so a renamed
//! metric cannot leave a panel silently empty.

use std::collections::BTreeSet;

const SOURCES: [&str; 3] = ["backend/shared/src/metrics.rs", "edge/src/metrics.rs", "llm-gateway/src/metrics.rs"];

#[test]
fn every_panel_queries_metrics_that_exist() {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(format!("{root}/deploy/grafana/ferrocat.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let registered: String = SOURCES.iter().map(|s| std::fs::read_to_string(format!("{root}/{s}")).unwrap()).collect();
    let panels = dashboard["panels"].as_array().expect("panels");
    let ids: BTreeSet<u64> = panels.iter().map(|p| p["id"].as_u64().expect("every panel has an id")).collect();
    assert_eq!(ids.len(), panels.len(), "panel ids are unique");
    let mut queried = BTreeSet::new();
    for panel in panels.iter().filter(|p| p["type"] != "row") {
        let targets = panel["targets"].as_array().unwrap_or_else(|| panic!("{} has no queries", panel["title"]));
        assert!(!targets.is_empty(), "{} has no queries", panel["title"]);
        for target in targets {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if !(word.starts_with("ferrocat_") || word.starts_with("process_")) {
                    continue;
                }
                let name = ["_bucket", "_count", "_sum"].iter().fold(word, |n, suffix| n.strip_suffix(suffix).unwrap_or(n));
                assert!(registered.contains(&format!("\"{name}\"")), "{:?} queries {name}, which no service registers", panel["title"]);
                queried.insert(name.to_owned());
            }
        }
    }
    for must in ["ferrocat_webhooks_total", "ferrocat_runs_finished_total", "ferrocat_action_seconds", "ferrocat_action_queue_seconds", "process_resident_memory_bytes"] {
        assert!(queried.contains(must), "no panel shows {must}");
    }
}
