//! The built-in actions, listed once: the executor dispatches them, the api and MCP list them.

/// One built-in action, as listed by the registry.
pub struct ActionSpec {
    /// Registry key, e.g. `core.http_request`.
    pub name: &'static str,
    /// What it does, in one line.
    pub description: &'static str,
    /// Secrets the action reads whether or not its arguments name them (by secret name).
    pub secrets: &'static [&'static str],
}

/// Every built-in action.
pub const REGISTRY: &[ActionSpec] = &[
    ActionSpec { name: "ai.action", description: "One model call through the gateway; returns text, or JSON following output_type's schema.", secrets: &[] },
    ActionSpec { name: "ai.agent", description: "A tool-calling agent whose tools are registry actions; returns {output, messages, usage}.", secrets: &[] },
    ActionSpec { name: "core.transform.reshape", description: "Reshape data: returns `value` with its expressions evaluated.", secrets: &[] },
    ActionSpec { name: "core.http_request", description: "Send an HTTP request; returns {status_code, headers, data}.", secrets: &[] },
    ActionSpec { name: "core.http_poll", description: "Repeat an HTTP request until poll_condition holds or the status leaves poll_retry_codes.", secrets: &[] },
    ActionSpec { name: "core.http_paginate", description: "Follow next_request from page to page until stop_condition; returns items or pages.", secrets: &[] },
    ActionSpec { name: "core.transform.filter", description: "Keep the items for which `python_lambda` is truthy.", secrets: &[] },
    ActionSpec { name: "core.transform.map", description: "Apply `python_lambda` to each item.", secrets: &[] },
    ActionSpec { name: "core.transform.apply", description: "Apply `python_lambda` to `value`.", secrets: &[] },
    ActionSpec { name: "core.transform.is_in", description: "Keep the items (or their `python_lambda` keys) that are in `collection`.", secrets: &[] },
    ActionSpec { name: "core.transform.not_in", description: "Keep the items (or their `python_lambda` keys) that are not in `collection`.", secrets: &[] },
    ActionSpec { name: "core.transform.deduplicate", description: "Drop items whose key values were seen in this call or (persist) within expire_seconds.", secrets: &[] },
    ActionSpec { name: "core.transform.is_duplicate", description: "Whether an item's key values were seen within expire_seconds.", secrets: &[] },
    ActionSpec { name: "core.transform.drop_nulls", description: "Remove null items from a list.", secrets: &[] },
    ActionSpec { name: "core.transform.flatten_json", description: "Flatten a JSON object into one level of jsonpath-style keys.", secrets: &[] },
    ActionSpec { name: "core.transform.eval_jsonpaths", description: "Evaluate several JSONPath expressions on an object.", secrets: &[] },
    ActionSpec { name: "core.require", description: "Check boolean conditions; fail (or return false) when they do not hold.", secrets: &[] },
    ActionSpec { name: "core.workflow.execute", description: "Run committed workflows as subflows (child runs): wait for their returns or detach.", secrets: &[] },
    ActionSpec { name: "core.script.run_python", description: "Run a Python function in the sandbox and return its value.", secrets: &[] },
    ActionSpec {
        name: "core.send_email_smtp",
        description: "Send an email through the SMTP server of the `smtp` secret (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASS).",
        secrets: &["smtp"],
    },
    ActionSpec { name: "core.transform.scatter", description: "Run what follows once per item of `collection`, each in its own stream.", secrets: &[] },
    ActionSpec { name: "core.transform.gather", description: "Collect `items` from every stream of a scatter into one list, in order.", secrets: &[] },
    ActionSpec { name: "core.loop.start", description: "Start a do-while loop; its result is {iteration}.", secrets: &[] },
    ActionSpec { name: "core.loop.end", description: "End a do-while loop: go round again while `condition` holds (max_iterations, default 100).", secrets: &[] },
];

/// The registry entry of `name`.
pub fn spec(name: &str) -> Option<&'static ActionSpec> {
    REGISTRY.iter().find(|s| s.name == name)
}
