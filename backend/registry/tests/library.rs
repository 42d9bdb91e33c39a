//! The integration library against local mocks of each vendor's API: every case in
//! `tests/library/<tool>.yml` runs its action through the action table with a real HTTP server
//! on loopback standing in for the vendor. The server checks each request the action sends
//! (method, path, query, headers, body) against the case and answers with the documented shape;
//! the action's result must then be exactly the case's.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value};

use ferrocat_registry::{ActionDeps, Call, actions, global};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    action: String,
    #[serde(default)]
    args: Map<String, Value>,
    #[serde(default)]
    vars: Map<String, Value>,
    #[serde(default)]
    secrets: Map<String, Value>,
    #[serde(default)]
    exchanges: Vec<Exchange>,
    /// `result: null` is a result (null), unlike no `result` at all.
    #[serde(default, deserialize_with = "present")]
    result: Option<Value>,
    #[serde(default)]
    error: Option<String>,
    /// JSON pointers into the result to leave out of the comparison (a `date` header).
    #[serde(default)]
    ignore: Vec<String>,
}

fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Exchange {
    request: Expected,
    response: Answer,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Expected {
    method: String,
    path: String,
    #[serde(default)]
    query: Map<String, Value>,
    #[serde(default)]
    headers: Map<String, Value>,
    #[serde(default)]
    json: Option<Value>,
    #[serde(default)]
    form: Option<Map<String, Value>>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Answer {
    #[serde(default = "ok")]
    status: u16,
    #[serde(default)]
    json: Option<Value>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    headers: Map<String, Value>,
}

fn ok() -> u16 {
    200
}

/// What the mock saw: each request, as method, path, query, headers and body.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Default)]
struct Mock {
    answers: Vec<Answer>,
    seen: Vec<Seen>,
}

/// A vendor stand-in on loopback answering its `answers` in order; its URL and what it saw.
async fn serve() -> (String, Arc<Mutex<Mock>>) {
    let mock = Arc::new(Mutex::new(Mock::default()));
    let state = mock.clone();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let state = state.clone();
        async move {
            let mut mock = state.lock().unwrap();
            let n = mock.seen.len();
            mock.seen.push(Seen { method: method.to_string(), path: uri.path().to_owned(), query: uri.query().map(str::to_owned), headers, body });
            match mock.answers.get(n).cloned() {
                Some(answer) => respond(answer),
                None => (StatusCode::IM_A_TEAPOT, format!("request {} was not expected", n + 1)).into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, mock)
}

fn respond(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap();
    let mut response = match (answer.json, answer.text) {
        (Some(body), _) => (status, [("content-type", "application/json")], body.to_string()).into_response(),
        (None, Some(text)) => (status, [("content-type", "text/plain")], text).into_response(),
        (None, None) => status.into_response(),
    };
    for (name, value) in answer.headers {
        let value = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
        response.headers_mut().insert(axum::http::HeaderName::try_from(name).unwrap(), value.parse().unwrap());
    }
    response
}

/// `MOCK_URL` replaced by `url` in every string of `value`.
fn with_mock(value: Value, url: &str) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace("MOCK_URL", url)),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| with_mock(v, url)).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, with_mock(v, url))).collect()),
        other => other,
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Query or form pairs as `{name: value}`, a repeated name as a list of its values.
fn pairs(text: &[u8]) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in url::form_urlencoded::parse(text) {
        let value = Value::String(value.into_owned());
        match out.get_mut(name.as_ref()) {
            Some(Value::Array(values)) => values.push(value),
            Some(first) => *first = Value::Array(vec![first.clone(), value]),
            None => {
                out.insert(name.into_owned(), value);
            }
        }
    }
    out
}

/// Expected values as the wire carries them: scalars as text, lists element-wise.
fn as_text(map: &Map<String, Value>) -> Map<String, Value> {
    let text = |v: &Value| match v {
        Value::String(s) => Value::String(s.clone()),
        other => Value::String(other.to_string()),
    };
    map.iter()
        .map(|(k, v)| match v {
            Value::Array(items) => (k.clone(), Value::Array(items.iter().map(text).collect())),
            other => (k.clone(), text(other)),
        })
        .collect()
}

/// How `seen` differs from `expected`, one line each.
fn differences(expected: &Expected, seen: &Seen) -> Vec<String> {
    let mut out = Vec::new();
    if !expected.method.eq_ignore_ascii_case(&seen.method) {
        out.push(format!("method {} instead of {}", seen.method, expected.method));
    }
    let path = percent_decode(&seen.path);
    if path != expected.path {
        out.push(format!("path {path} instead of {}", expected.path));
    }
    let query = pairs(seen.query.as_deref().unwrap_or("").as_bytes());
    if query != as_text(&expected.query) {
        out.push(format!("query {} instead of {}", Value::Object(query), Value::Object(as_text(&expected.query))));
    }
    for (name, value) in &expected.headers {
        let want = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
        let got = seen.headers.get(name.as_str()).and_then(|v| v.to_str().ok());
        if got != Some(want.as_str()) {
            out.push(format!("header {name}: {got:?} instead of {want:?}"));
        }
    }
    match (&expected.json, &expected.form) {
        (Some(json), _) => match serde_json::from_slice::<Value>(&seen.body) {
            Ok(body) if &body == json => {}
            Ok(body) => out.push(format!("JSON body {body} instead of {json}")),
            Err(_) => out.push(format!("body {:?} is not the JSON {json}", String::from_utf8_lossy(&seen.body))),
        },
        (None, Some(form)) => {
            let body = pairs(&seen.body);
            if body != as_text(form) {
                out.push(format!("form {} instead of {}", Value::Object(body), Value::Object(as_text(form))));
            }
        }
        (None, None) if !seen.body.is_empty() => out.push(format!("a body {:?} where none was expected", String::from_utf8_lossy(&seen.body))),
        (None, None) => {}
    }
    out
}

fn percent_decode(path: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", path.replace('+', "%2B")).as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// Runs one case; what went wrong, if anything.
async fn run_case(case: Case, deps: &ActionDeps) -> Result<(), String> {
    let (url, mock) = serve().await;
    // Answers may carry the mock's own address (a next-page link).
    mock.lock().unwrap().answers = case
        .exchanges
        .iter()
        .map(|e| Answer { json: e.response.json.clone().map(|j| with_mock(j, &url)), ..e.response.clone() })
        .collect();
    let args = object(with_mock(Value::Object(case.args), &url));
    let vars = object(with_mock(Value::Object(case.vars), &url));
    let secrets = object(with_mock(Value::Object(case.secrets), &url));
    let env = Map::new();
    let call = Call::new(&case.action, args, deps, &secrets).with_context(&vars, &env);
    let outcome = global().run(&case.action, call).await;
    let seen = mock.lock().unwrap().seen.clone();
    let mut problems = Vec::new();
    for (i, exchange) in case.exchanges.iter().enumerate() {
        let request = &exchange.request;
        let expected = Expected {
            method: request.method.clone(),
            path: request.path.clone(),
            query: object(with_mock(Value::Object(request.query.clone()), &url)),
            headers: object(with_mock(Value::Object(request.headers.clone()), &url)),
            json: request.json.clone().map(|json| with_mock(json, &url)),
            form: request.form.clone().map(|form| object(with_mock(Value::Object(form), &url))),
        };
        match seen.get(i) {
            Some(seen) => problems.extend(differences(&expected, seen).into_iter().map(|d| format!("request {}: {d}", i + 1))),
            None => problems.push(format!("request {} ({} {}) was never sent", i + 1, expected.method, expected.path)),
        }
    }
    if seen.len() > case.exchanges.len() {
        problems.push(format!("{} requests sent, {} expected", seen.len(), case.exchanges.len()));
    }
    match (outcome, case.result, case.error) {
        (Ok(mut value), Some(expected), _) => {
            for pointer in &case.ignore {
                if let Some((parent, key)) = pointer.rsplit_once('/')
                    && let Some(Value::Object(map)) = value.pointer_mut(parent)
                {
                    map.remove(key);
                }
            }
            let expected = with_mock(expected, &url);
            if value != expected {
                problems.push(format!("result {value} instead of {expected}"));
            }
        }
        (Ok(value), None, Some(error)) => problems.push(format!("succeeded with {value}, expected an error containing {error:?}")),
        (Ok(_), None, None) => problems.push("the case names neither result nor error".into()),
        (Err(e), _, Some(error)) if e.to_string().contains(&error) => {}
        (Err(e), _, _) => problems.push(format!("failed: {e}")),
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n    ")) }
}

fn cases() -> Vec<(String, Case)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/library");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let cases: Vec<Case> = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        out.extend(cases.into_iter().map(|c| (name.clone(), c)));
    }
    out
}

#[tokio::test]
async fn every_library_action_does_what_the_vendor_documents() {
    let client = actions::http::client(Arc::new(ferrocat_shared::egress::EgressPolicy::permissive())).unwrap();
    let deps = ActionDeps::with_http(client);
    let mut failures = Vec::new();
    let mut covered = BTreeSet::new();
    let mut count = 0;
    for (file, case) in cases() {
        count += 1;
        let action = case.action.clone();
        covered.insert(action.clone());
        if let Err(problems) = run_case(case, &deps).await {
            failures.push(format!("{file}: {action}:\n    {problems}"));
        }
    }
    assert!(failures.is_empty(), "{} of {count} cases failed:\n{}", failures.len(), failures.join("\n"));
    let library: BTreeSet<String> = global()
        .list()
        .iter()
        .filter(|a| a.origin_name() == ferrocat_registry::template::load::LIBRARY_ORIGIN)
        .map(|a| a.name().to_owned())
        .collect();
    let untested: Vec<&String> = library.difference(&covered).collect();
    assert!(untested.is_empty(), "library actions without a case: {untested:?}");
    let namespaces: BTreeSet<&str> = library.iter().filter_map(|n| n.rsplit_once('.').map(|(ns, _)| ns)).collect();
    assert!(library.len() >= 60 && namespaces.len() >= 15, "{} actions in {} namespaces", library.len(), namespaces.len());
    println!("{count} cases, {} library actions in {} namespaces", library.len(), namespaces.len());
}

#[test]
fn the_library_loads_whole() {
    let set = ferrocat_registry::template::load::prepare(
        &ferrocat_registry::template::load::library_sources(),
        &ferrocat_registry::Registry::new(Vec::new()),
        "check",
    );
    // Against an empty table every step's action is unknown: the problems say so, and nothing else.
    let problems = set.err().unwrap_or_default();
    assert!(problems.iter().all(|p| p.message.contains("unknown action")), "{problems:#?}");
    let whole = ferrocat_registry::template::load::prepare(&ferrocat_registry::template::load::library_sources(), global(), "check")
        .unwrap_or_else(|problems| panic!("{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")));
    assert!(whole.actions.len() >= 60, "{}", whole.actions.len());
}
