//! `SECRETS` for actions: the names an action refers to, read from the api's encrypted store
//! for the run's workspace and environment, decrypted here in the executor only. Values never
//! enter workflow history: the workflow sends the unevaluated arguments, the executor resolves
//! them and masks every value as `***` in what it returns.

use std::collections::BTreeSet;

use serde_json::Value;

use ferrocat_dsl::ActionStatement;
pub use ferrocat_shared::secret_store::SecretStore;

/// The secret names a statement needs: those its args, `for_each` and `run_if` use
/// (`SECRETS.<name>.KEY`), and those its action reads itself (the registry's `secrets`).
pub fn referenced(task: &ActionStatement) -> BTreeSet<String> {
    let mut text = Value::Object(task.args.clone()).to_string();
    if let Some(for_each) = &task.for_each {
        text.push_str(&for_each.to_string());
    }
    if let Some(run_if) = &task.run_if {
        text.push_str(run_if);
    }
    let mut names = BTreeSet::new();
    for (start, _) in text.match_indices("SECRETS.") {
        let name: String = text[start + "SECRETS.".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if !name.is_empty() {
            names.insert(name);
        }
    }
    if let Some(action) = ferrocat_registry::global().get(&task.action) {
        names.extend(action.secret_names().iter().cloned());
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_secret_names_in_args_loops_and_conditions() {
        let task: ActionStatement = serde_json::from_value(serde_json::json!({
            "ref": "a",
            "action": "core.http_request",
            "args": {"headers": {"Authorization": "Bearer ${{ SECRETS.api.TOKEN }}"}, "url": "${{ SECRETS.base_url.URL }}"},
            "for_each": "${{ for var.x in SECRETS.list.ITEMS }}",
            "run_if": "${{ SECRETS.api.TOKEN != None }}",
        }))
        .unwrap();
        let names: Vec<String> = referenced(&task).into_iter().collect();
        assert_eq!(names, vec!["api", "base_url", "list"]);
    }
}
