//! `SECRETS` for actions: the names an action refers to, read from the api's encrypted store
//! for the run's workspace and environment, decrypted here in the executor only. Values never
//! enter workflow history: the workflow sends the unevaluated arguments, the executor resolves
//! them and masks every value as `***` in what it returns.

use std::collections::BTreeSet;

use ferrocat_dsl::ActionStatement;
use ferrocat_dsl::expr::{self, ContextRoot};
pub use ferrocat_shared::secret_store::SecretStore;

/// The secret names a statement needs: those its args, `for_each` and `run_if` use
/// (`SECRETS.<name>.KEY` inside a `${{ … }}` template), and those its action reads itself (the
/// registry's `secrets`).
pub fn referenced(task: &ActionStatement, table: &ferrocat_registry::Registry) -> BTreeSet<String> {
    let mut refs = expr::References::default();
    for (key, value) in &task.args {
        refs.add_str(key);
        refs.add_value(value);
    }
    if let Some(for_each) = &task.for_each {
        refs.add_value(for_each);
    }
    if let Some(run_if) = &task.run_if {
        refs.add_str(run_if);
    }
    let mut names: BTreeSet<String> = refs.keys(ContextRoot::Secrets).map(str::to_owned).collect();
    // A template that does not parse has no AST to walk. Its `SECRETS.<name>` are still found
    // by scanning its text, so a missing secret fails resolution with a clear message instead
    // of being skipped silently before evaluation reports the syntax error.
    for text in &refs.unparsed {
        names.extend(scanned_secret_names(text));
    }
    if let Some(action) = table.get(&task.action) {
        names.extend(action.secret_names().iter().cloned());
    }
    names
}

/// The secrets `task`'s action reads when they exist (a template's optional ones), less those
/// `required` already holds.
pub fn optional(task: &ActionStatement, required: &BTreeSet<String>, table: &ferrocat_registry::Registry) -> BTreeSet<String> {
    table
        .get(&task.action)
        .map(|action| action.optional_secret_names().iter().filter(|n| !required.contains(*n)).cloned().collect())
        .unwrap_or_default()
}

/// The `<name>` of every `SECRETS.<name>` in `text`, read as text (for unparsable templates).
fn scanned_secret_names(text: &str) -> impl Iterator<Item = String> + '_ {
    text.match_indices("SECRETS.").filter_map(|(start, _)| {
        let name: String = text[start + "SECRETS.".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        (!name.is_empty()).then_some(name)
    })
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
        let names: Vec<String> = referenced(&task, ferrocat_registry::global()).into_iter().collect();
        assert_eq!(names, vec!["api", "base_url", "list"]);
    }

    #[test]
    fn reads_templates_not_text_but_scans_a_template_that_does_not_parse() {
        let task: ActionStatement = serde_json::from_value(serde_json::json!({
            "ref": "a",
            "action": "core.transform.reshape",
            "args": {
                "note": "rotate SECRETS.api.TOKEN monthly",
                "value": "${{ FN.concat(SECRETS.key.K, 'x') }}",
                "broken": "${{ SECRETS.broken.K + }}",
            },
        }))
        .unwrap();
        let names: Vec<String> = referenced(&task, ferrocat_registry::global()).into_iter().collect();
        assert_eq!(names, vec!["broken", "key"]);
    }
}
