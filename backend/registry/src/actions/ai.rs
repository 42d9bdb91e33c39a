//! `ai.action` (one model call; text, or JSON checked against a schema) and `ai.agent` (a
//! tool-calling loop whose tools are registry actions), both through the model gateway. The
//! executor mints a short-lived gateway token per call naming the run's workspace and the
//! model; provider keys stay in the gateway. An agent's tool calls run as ordinary actions
//! (same sandbox, same HTTP client), and every secret value is masked in what goes back to the
//! model.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use ferrocat_shared::temporal::RunContext;

use super::{ActionError, parse_args};
use crate::gateway::AiGateway;
use crate::table::{Call, Checkpoint, Registry};

fn default_retries() -> u32 {
    2
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActionArgs {
    user_prompt: String,
    #[serde(alias = "model")]
    model_name: String,
    /// Accepted for Tracecat's files; the gateway's catalog knows each model's provider.
    #[serde(default)]
    #[allow(dead_code)]
    model_provider: Option<String>,
    #[serde(default)]
    instructions: Option<String>,
    /// `str` (default), or a JSON schema the output must follow.
    #[serde(default)]
    output_type: Option<Value>,
    #[serde(default)]
    model_settings: Map<String, Value>,
    #[serde(default = "default_retries")]
    retries: u32,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgentArgs {
    user_prompt: String,
    #[serde(alias = "model")]
    model_name: String,
    #[serde(default)]
    #[allow(dead_code)]
    model_provider: Option<String>,
    #[serde(default)]
    instructions: Option<String>,
    #[serde(default)]
    output_type: Option<Value>,
    /// Registry actions the agent may call, e.g. `core.http_request`.
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    model_settings: Map<String, Value>,
    #[serde(default = "default_max_tool_calls")]
    max_tool_calls: usize,
    #[serde(default = "default_max_requests")]
    max_requests: usize,
    #[serde(default = "default_retries")]
    retries: u32,
}

fn default_max_tool_calls() -> usize {
    15
}

fn default_max_requests() -> usize {
    45
}

/// `ai.action`: one model call for the run.
pub(crate) async fn run_action(call: Call<'_>) -> Result<Value, ActionError> {
    let (gateway, run) = gateway_and_run(&call)?;
    action(gateway, parse_args(call.args)?, run).await
}

/// `ai.agent`: the tool-calling loop for the run, checkpointing into the call's progress.
pub(crate) async fn run_agent(call: Call<'_>) -> Result<Value, ActionError> {
    let (gateway, run) = gateway_and_run(&call)?;
    let table = call.table().ok_or_else(|| ActionError::Invalid("ai.agent runs only through the action table".into()))?;
    let args = parse_args(call.args.clone())?;
    agent(gateway, table, &call, args, run).await
}

fn gateway_and_run<'a>(call: &Call<'a>) -> Result<(&'a AiGateway, &'a RunContext), ActionError> {
    let name = call.name;
    let gateway = call.deps.ai.as_ref().ok_or_else(|| {
        ActionError::Invalid(format!("{name} needs the model gateway: set FERROCAT_LLM_GATEWAY_URL and FERROCAT_LLM_GATEWAY_SIGNING_SECRET"))
    })?;
    let run = call.run.ok_or_else(|| ActionError::Invalid(format!("{name} runs only within a workflow run")))?;
    Ok((gateway, run))
}

/// Where the output should be JSON: the schema, if `output_type` is one.
fn output_schema(output_type: &Option<Value>) -> Result<Option<&Map<String, Value>>, ActionError> {
    match output_type {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s == "str" => Ok(None),
        Some(Value::Object(schema)) => Ok(Some(schema)),
        Some(other) => Err(ActionError::Invalid(format!("output_type must be \"str\" or a JSON schema, got {other}"))),
    }
}

fn request(model: &str, messages: &[Value], settings: &Map<String, Value>, schema: Option<&Map<String, Value>>) -> Value {
    let mut body = Map::new();
    body.extend(settings.clone());
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), json!(messages));
    if let Some(schema) = schema {
        body.insert("response_format".into(), json!({"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}));
    }
    Value::Object(body)
}

fn first_message(response: &Value) -> Result<&Value, ActionError> {
    response["choices"][0].get("message").ok_or_else(|| ActionError::Http("the model answered without a message".into()))
}

/// The final text as the action's output: JSON when a schema was asked for, with its required
/// keys checked.
fn output(content: &str, schema: Option<&Map<String, Value>>) -> Result<Value, ActionError> {
    let Some(schema) = schema else { return Ok(Value::String(content.to_owned())) };
    let trimmed = content.trim().trim_start_matches("```json").trim_start_matches("```").trim_end_matches("```").trim();
    let value: Value =
        serde_json::from_str(trimmed).map_err(|e| ActionError::Value(format!("the model's output is not the JSON asked for: {e}")))?;
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for key in required.iter().filter_map(Value::as_str) {
            if value.get(key).is_none() {
                return Err(ActionError::Value(format!("the model's output lacks the required field {key:?}")));
            }
        }
    }
    Ok(value)
}

fn prompt(instructions: &Option<String>, user_prompt: &str) -> Vec<Value> {
    let mut messages = Vec::new();
    if let Some(instructions) = instructions.as_deref().filter(|i| !i.is_empty()) {
        messages.push(json!({"role": "system", "content": instructions}));
    }
    messages.push(json!({"role": "user", "content": user_prompt}));
    messages
}

async fn action(gateway: &AiGateway, args: ActionArgs, run: &RunContext) -> Result<Value, ActionError> {
    let schema = output_schema(&args.output_type)?;
    let messages = prompt(&args.instructions, &args.user_prompt);
    let token = gateway.token(run, &args.model_name);
    let response = gateway.complete(&token, &request(&args.model_name, &messages, &args.model_settings, schema), args.retries).await?;
    let content = first_message(&response)?["content"].as_str().unwrap_or_default().to_owned();
    output(&content, schema)
}

/// A tool's name for the model (`core.http_request` → `core__http_request`).
fn tool_name(action: &str) -> String {
    action.replace('.', "__")
}

/// A registry action as a tool: its description and its arguments' schema. Neither the
/// workflow's own control flow nor another model call can be one.
fn tool(table: &Registry, action: &str) -> Result<Value, ActionError> {
    let spec = table
        .get(action)
        .filter(|a| a.runs_on_executor() && a.namespace() != "ai")
        .ok_or_else(|| ActionError::Invalid(format!("{action:?} cannot be an agent's tool: not a registry action")))?;
    let mut parameters = spec.args_schema();
    if let Some(schema) = parameters.as_object_mut() {
        schema.remove("$schema");
    }
    Ok(json!({"type": "function", "function": {"name": tool_name(spec.name()), "description": spec.description(), "parameters": parameters}}))
}

/// Largest checkpoint recorded; beyond it an agent goes on without one (Temporal refuses
/// payloads of a few MiB), so a retry starts that agent over.
const MAX_CHECKPOINT_BYTES: usize = 1 << 20;

/// An agent's conversation so far, and its counts.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, Deserialize)]
struct AgentState {
    messages: Vec<Value>,
    requests: usize,
    tool_calls: usize,
    input_tokens: u64,
    output_tokens: u64,
}

/// The checkpoint `progress` holds, if it is an agent's.
fn resume(progress: &dyn Checkpoint) -> Option<AgentState> {
    progress.resume().and_then(|saved| serde_json::from_value(saved).ok())
}

/// Records `state` with every secret value masked: checkpoints live in Temporal, where secrets
/// never go. (A prompt that embeds a secret then no longer matches on resume, and that agent
/// starts over.)
async fn save(progress: &dyn Checkpoint, state: &AgentState, masks: &[String]) {
    let masked = crate::masking::mask(serde_json::to_value(state).expect("agent state serializes"), masks);
    let size = serde_json::to_vec(&masked).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_CHECKPOINT_BYTES {
        tracing::warn!(size, "agent checkpoint too large to record; a retry would start over");
        return;
    }
    progress.save(masked).await;
}

/// What the agent does next, read off its conversation: answer, run a tool call the last
/// model turn asked for, or ask the model.
enum Next<'a> {
    Answer(&'a str),
    Tool(&'a Value),
    Ask,
}

fn next_step(messages: &[Value]) -> Next<'_> {
    let Some(at) = messages.iter().rposition(|m| m["role"] == "assistant") else { return Next::Ask };
    let calls = messages[at]["tool_calls"].as_array().map(Vec::as_slice).unwrap_or_default();
    if calls.is_empty() {
        return Next::Answer(messages[at]["content"].as_str().unwrap_or_default());
    }
    // Tool results follow their turn in the order of its calls.
    let answered = messages[at + 1..].iter().filter(|m| m["role"] == "tool").count();
    calls.get(answered).map_or(Next::Ask, Next::Tool)
}

/// The loop of `call` (whose secrets, variables and checkpoint it uses; each tool runs as a
/// step of it).
async fn agent(gateway: &AiGateway, table: &Registry, parent: &Call<'_>, args: AgentArgs, run: &RunContext) -> Result<Value, ActionError> {
    let (secrets, progress) = (parent.secrets, parent.progress);
    let schema = output_schema(&args.output_type)?;
    let tools = args.actions.iter().map(|a| tool(table, a)).collect::<Result<Vec<_>, _>>()?;
    let masks = crate::masking::secret_values(secrets);
    let opening = prompt(&args.instructions, &args.user_prompt);
    let mut state = match progress.and_then(resume) {
        Some(saved) if saved.messages.starts_with(&opening) => {
            tracing::info!(requests = saved.requests, tool_calls = saved.tool_calls, run = %run.wf_exec_id, "agent resumes from its checkpoint");
            saved
        }
        _ => AgentState { messages: opening, ..AgentState::default() },
    };
    let token = gateway.token(run, &args.model_name);
    loop {
        match next_step(&state.messages) {
            Next::Answer(content) => {
                return Ok(json!({
                    "output": output(content, schema)?,
                    "messages": state.messages,
                    "usage": {
                        "requests": state.requests, "tool_calls": state.tool_calls,
                        "input_tokens": state.input_tokens, "output_tokens": state.output_tokens,
                    },
                }));
            }
            Next::Tool(call) => {
                if state.tool_calls >= args.max_tool_calls {
                    return Err(ActionError::Value(format!("the agent asked for more than {} tool calls (max_tool_calls)", args.max_tool_calls)));
                }
                let name = call["function"]["name"].as_str().unwrap_or_default();
                let content = match args.actions.iter().find(|a| tool_name(a) == name) {
                    None => json!({"error": format!("there is no tool {name:?}")}),
                    Some(action) => {
                        let raw = call["function"]["arguments"].as_str().unwrap_or("{}");
                        match serde_json::from_str::<Value>(raw) {
                            Ok(Value::Object(tool_args)) => match Box::pin(table.run(action, parent.nested(action, tool_args, parent.depth()))).await {
                                Ok(value) => crate::masking::mask(value, &masks),
                                Err(e) => json!({"error": crate::masking::mask_text(&e.to_string(), &masks)}),
                            },
                            _ => json!({"error": "the tool's arguments must be a JSON object"}),
                        }
                    }
                };
                tracing::info!(tool = name, run = %run.wf_exec_id, "agent tool call");
                let id = call["id"].clone();
                state.messages.push(json!({"role": "tool", "tool_call_id": id, "content": content.to_string()}));
                state.tool_calls += 1;
            }
            Next::Ask => {
                if state.requests >= args.max_requests {
                    return Err(ActionError::Value(format!("the agent made {} model requests without finishing (max_requests)", state.requests)));
                }
                let mut body = request(&args.model_name, &state.messages, &args.model_settings, schema);
                if !tools.is_empty() {
                    body["tools"] = json!(tools);
                }
                let response = gateway.complete(&token, &body, args.retries).await?;
                state.requests += 1;
                state.input_tokens += response["usage"]["prompt_tokens"].as_u64().unwrap_or(0);
                state.output_tokens += response["usage"]["completion_tokens"].as_u64().unwrap_or(0);
                state.messages.push(first_message(&response)?.clone());
            }
        }
        if let Some(progress) = progress {
            save(progress, &state, &masks).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_are_text_or_checked_json() {
        assert_eq!(output("hi", None).unwrap(), json!("hi"));
        let schema: Map<String, Value> = serde_json::from_value(json!({"type": "object", "required": ["verdict"]})).unwrap();
        assert_eq!(output("```json\n{\"verdict\": \"benign\"}\n```", Some(&schema)).unwrap(), json!({"verdict": "benign"}));
        assert!(output("{\"other\": 1}", Some(&schema)).unwrap_err().to_string().contains("verdict"));
        assert!(output("not json", Some(&schema)).is_err());
        assert!(output_schema(&Some(json!(3))).is_err());
    }

    #[test]
    fn tools_are_registry_actions_only() {
        let table = crate::global();
        assert_eq!(tool(table, "core.http_request").unwrap()["function"]["name"], "core__http_request");
        assert!(tool(table, "ai.agent").is_err());
        assert!(tool(table, "core.transform.scatter").is_err());
        assert!(tool(table, "os.system").is_err());
    }
}
