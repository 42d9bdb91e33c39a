//! The built-in actions: the one place each is named, described and tied to what runs it.

use serde_json::{Value, json};

use ferrocat_dsl::{EXECUTE, GATHER, LOOP_END, LOOP_START, SCATTER};

use crate::actions::{ai, dedup, email, http, http_poll, require, script, transform, vendor_sdk};
use crate::control::ExecuteArgs;
use crate::table::Action;

/// Every built-in action.
pub(crate) fn builtins() -> Vec<Action> {
    let mut table = vec![
        Action::effect("ai.action", "AI action", "One model call through the gateway; returns text, or JSON following output_type's schema.", |c| {
            Box::pin(ai::run_action(c))
        })
        .args::<ai::ActionArgs>(),
        Action::effect("ai.agent", "AI agent", "A tool-calling agent whose tools are registry actions; returns {output, messages, usage}.", |c| {
            Box::pin(ai::run_agent(c))
        })
        .args::<ai::AgentArgs>(),
        Action::pure("core.transform.reshape", "Reshape", "Reshape data: returns `value` with its expressions evaluated.", |c| {
            Box::pin(async move { transform::reshape(c.args) })
        })
        .args::<transform::ReshapeArgs>(),
        Action::effect("core.http_request", "HTTP request", "Send an HTTP request; returns {status_code, headers, data}.", |c| {
            Box::pin(http::http_request(&c.deps.http, c.args))
        })
        .args::<http::HttpRequestArgs>(),
        Action::effect(
            "core.http_poll",
            "HTTP polling",
            "Repeat an HTTP request until poll_condition holds or the status leaves poll_retry_codes.",
            |c| Box::pin(http_poll::http_poll(&c.deps.http, c.args)),
        )
        .schema(with_request::<http_poll::PollArgs>()),
        Action::effect(
            "core.http_paginate",
            "HTTP pagination",
            "Follow next_request from page to page until stop_condition; returns items or pages.",
            |c| Box::pin(http_poll::http_paginate(&c.deps.http, c.args)),
        )
        .schema(with_request::<http_poll::PaginateArgs>()),
        Action::effect("core.transform.filter", "Filter", "Keep the items for which `python_lambda` is truthy.", |c| {
            Box::pin(transform::filter(c.args))
        })
        .args::<transform::LambdaItemsArgs>(),
        Action::effect("core.transform.map", "Map", "Apply `python_lambda` to each item.", |c| Box::pin(transform::map(c.args)))
            .args::<transform::LambdaItemsArgs>(),
        Action::effect("core.transform.apply", "Apply", "Apply `python_lambda` to `value`.", |c| Box::pin(transform::apply(c.args)))
            .args::<transform::ApplyArgs>(),
        Action::effect("core.transform.is_in", "Is in", "Keep the items (or their `python_lambda` keys) that are in `collection`.", |c| {
            Box::pin(transform::is_in(c.args, true))
        })
        .args::<transform::MembershipArgs>(),
        Action::effect(
            "core.transform.not_in",
            "Not in",
            "Keep the items (or their `python_lambda` keys) that are not in `collection`.",
            |c| Box::pin(transform::is_in(c.args, false)),
        )
        .args::<transform::MembershipArgs>(),
        Action::effect(
            "core.transform.deduplicate",
            "Deduplicate",
            "Drop items whose key values were seen in this call or (persist) within expire_seconds.",
            |c| Box::pin(dedup::deduplicate(c.deps.redis.as_ref(), c.args)),
        )
        .args::<dedup::DeduplicateArgs>(),
        Action::effect("core.transform.is_duplicate", "Is duplicate", "Whether an item's key values were seen within expire_seconds.", |c| {
            Box::pin(dedup::is_duplicate(c.deps.redis.as_ref(), c.args))
        })
        .args::<dedup::IsDuplicateArgs>(),
        Action::pure("core.transform.drop_nulls", "Drop nulls", "Remove null items from a list.", |c| {
            Box::pin(async move { transform::drop_nulls(c.args) })
        })
        .args::<transform::ItemsArgs>(),
        Action::pure("core.transform.flatten_json", "Flatten JSON", "Flatten a JSON object into one level of jsonpath-style keys.", |c| {
            Box::pin(async move { transform::flatten_json(c.args) })
        })
        .args::<transform::FlattenArgs>(),
        Action::pure("core.transform.eval_jsonpaths", "Evaluate JSONPaths", "Evaluate several JSONPath expressions on an object.", |c| {
            Box::pin(async move { transform::eval_jsonpaths(c.args) })
        })
        .args::<transform::JsonPathsArgs>(),
        Action::pure("core.require", "Require", "Check boolean conditions; fail (or return false) when they do not hold.", |c| {
            Box::pin(async move { require::require(c.args) })
        })
        .args::<require::RequireArgs>(),
        Action::control_flow(
            EXECUTE,
            "Execute child workflow",
            "Run committed workflows as subflows (child runs): wait for their returns or detach.",
        )
        .args::<ExecuteArgs>(),
        Action::effect("core.script.run_python", "Run Python script", "Run a Python function in the sandbox and return its value.", |c| {
            Box::pin(async move { script::run_python(c.args, c.deps.http.policy()).await })
        })
        .args::<script::RunPythonArgs>(),
        Action::effect(
            "core.send_email_smtp",
            "Send email (SMTP)",
            "Send an email through the SMTP server of the `smtp` secret (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASS).",
            |c| Box::pin(async move { email::send_email_smtp(c.args, c.secrets, c.deps.http.policy()).await }),
        )
        .args::<email::EmailArgs>()
        .secrets(&["smtp"]),
        Action::effect(
            "tools.slack_sdk.call_method",
            "Call Slack method",
            "Call a Slack Web API method (SDK or dotted name) with the `slack` secret's bot token; returns Slack's answer.",
            |c| Box::pin(vendor_sdk::slack_call_method(c)),
        )
        .args::<vendor_sdk::SlackCallArgs>()
        .secrets(&["slack"]),
        Action::effect(
            "tools.slack_sdk.call_paginated_method",
            "Call paginated Slack method",
            "Call a cursor-paged Slack Web API method until `limit` items (the `key` list of each page) are collected.",
            |c| Box::pin(vendor_sdk::slack_call_paginated(c)),
        )
        .args::<vendor_sdk::SlackPagedArgs>()
        .secrets(&["slack"]),
        Action::effect(
            "tools.falconpy.call_command",
            "Call CrowdStrike operation",
            "Call a CrowdStrike Falcon API operation by its FalconPy id; returns {status_code, headers, body}.",
            |c| Box::pin(vendor_sdk::falcon_call_command(c)),
        )
        .args::<vendor_sdk::FalconArgs>()
        .secrets(&["crowdstrike"]),
        Action::effect(
            "tools.google_api.call_api",
            "Call Google API",
            "Call a Google API method found in the service's discovery document, as the google OAuth integration or a service account.",
            |c| Box::pin(vendor_sdk::google_call_api(c)),
        )
        .args::<vendor_sdk::GoogleTarget>()
        .optional_secrets(vec!["google_api".into(), "google_oauth".into()]),
        Action::effect(
            "tools.google_api.call_paginated_api",
            "Call paginated Google API",
            "Call a Google API list method page by page, following nextPageToken; returns the pages.",
            |c| Box::pin(vendor_sdk::google_call_paginated(c)),
        )
        .schema(merged::<vendor_sdk::GoogleTarget, vendor_sdk::GooglePaging>())
        .optional_secrets(vec!["google_api".into(), "google_oauth".into()]),
        Action::control_flow(SCATTER, "Scatter", "Run what follows once per item of `collection`, each in its own stream.")
            .schema(object(json!({"collection": {}, "interval": {"type": "number"}}), &["collection"])),
        Action::control_flow(GATHER, "Gather", "Collect `items` from every stream of a scatter into one list, in order.").schema(object(
            json!({"items": {}, "drop_nulls": {"type": "boolean"}, "error_strategy": {"enum": ["partition", "include", "drop", "raise"]}}),
            &["items"],
        )),
        Action::control_flow(LOOP_START, "Do-while start", "Start a do-while loop; its result is {iteration}.").schema(object(json!({}), &[])),
        Action::control_flow(
            LOOP_END,
            "Do-while end",
            "End a do-while loop: go round again while `condition` holds (max_iterations, default 100).",
        )
        .schema(object(json!({"condition": {}, "max_iterations": {"type": "integer"}}), &["condition"])),
    ];
    table.extend(crate::actions::cases::actions());
    table.extend(crate::actions::tables::actions());
    table
}

fn of<T: schemars::JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
}

/// A repeating HTTP action's schema: its own arguments beside the request's.
fn with_request<T: schemars::JsonSchema>() -> Value {
    merged::<http::HttpRequestArgs, T>()
}

/// One schema of the arguments of `A` and of `B`, side by side.
fn merged<A: schemars::JsonSchema, B: schemars::JsonSchema>() -> Value {
    let mut schema = of::<A>();
    let own = of::<B>();
    for key in ["properties", "$defs"] {
        if let (Some(Value::Object(into)), Some(Value::Object(from))) = (schema.get_mut(key), own.get(key)) {
            into.extend(from.clone());
        }
    }
    if let (Some(Value::Array(into)), Some(Value::Array(from))) = (schema.get_mut("required"), own.get("required")) {
        into.extend(from.iter().cloned());
    }
    schema
}

/// A closed object schema with `properties`, of which `required` must be present.
fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

#[cfg(test)]
mod tests {
    use crate::global;

    #[test]
    fn every_action_describes_its_arguments() {
        for action in global().list() {
            let schema = action.args_schema();
            assert_eq!(schema["type"], "object", "{}: {schema}", action.name());
            assert!(!action.title().is_empty() && !action.description().is_empty(), "{}", action.name());
        }
        let http = global().get("core.http_request").unwrap().args_schema();
        assert_eq!(http["required"], serde_json::json!(["url"]));
        assert!(http["properties"]["verify_ssl"].is_object());
        let poll = global().get("core.http_poll").unwrap().args_schema();
        assert!(poll["properties"]["url"].is_object() && poll["properties"]["poll_condition"].is_object(), "{poll}");
        assert!(global().get("core.nope").is_none());
    }

    #[test]
    fn names_are_unique_and_control_flow_is_not_run_here() {
        let names: Vec<String> = super::builtins().iter().map(|a| a.name().to_owned()).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert!(!global().get(ferrocat_dsl::SCATTER).unwrap().runs_on_executor());
        assert!(global().get("core.require").unwrap().is_pure());
        assert!(!global().get("core.http_request").unwrap().is_pure());
    }
}
