//! `flatten_dict`, `tabulate`, the Markdown formatters, `serialize_yaml` and `parse_csv`.

use serde_json::{Value, json};

use super::{ev, ev_err};
use crate::expr::{ExprContext, eval_expression};

/// Evaluates `expr` with `TRIGGER` = `trigger`, so tests can pass data without quoting it.
fn ev_with(expr: &str, trigger: Value) -> Value {
    let ctx = ExprContext {
        trigger,
        ..ExprContext::default()
    };
    eval_expression(expr, &ctx).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

fn alerts() -> Value {
    json!([
        {"rule": "Impossible travel", "severity": "high", "user": "alice@corp.example", "count": 3},
        {"rule": "Mass download", "severity": "medium", "user": "bob@corp.example"},
        {"rule": "Tor exit <node>", "severity": null, "count": 1, "note": ""}
    ])
}

#[test]
fn flatten_dict_uses_jsonpath_keys() {
    let alert = json!({
        "alert": {"id": "A-17", "tags": ["phishing", "o365"], "empty": {}, "none": []},
        "observables": [{"type": "ip", "value": "203.0.113.9"}, [1, [2]]],
        "score": 87.5
    });
    assert_eq!(
        ev_with("FN.flatten_dict(TRIGGER)", alert.clone()),
        json!({
            "alert.id": "A-17",
            "alert.tags[0]": "phishing",
            "alert.tags[1]": "o365",
            "observables[0].type": "ip",
            "observables[0].value": "203.0.113.9",
            "observables[1][0]": 1,
            "observables[1][1][0]": 2,
            "score": 87.5
        })
    );
    assert_eq!(
        ev("FN.flatten_dict('{\"user\": {\"groups\": [\"admins\"]}}')"),
        json!({"user.groups[0]": "admins"})
    );
    assert_eq!(ev("FN.flatten_dict([[1], 2])"), json!({"[0][0]": 1, "[1]": 2}));
    assert_eq!(ev("FN.flatten_dict(5)"), json!({"": 5}));
    // A later path that repeats an earlier key replaces its value in place.
    assert_eq!(
        ev("FN.flatten_dict({'a.b': 1, 'c': 0, 'a': {'b': 2}})"),
        json!({"a.b": 2, "c": 0})
    );
}

#[test]
fn flatten_dict_errors() {
    assert_eq!(
        ev_err("FN.flatten_dict({'a': {'b': {'c': 1}}}, 1)"),
        "Maximum recursion depth (1) exceeded while flattening object"
    );
    assert_eq!(
        ev("FN.flatten_dict({'a': {'b': 1}}, 1)"),
        json!({"a.b": 1})
    );
    assert_eq!(
        ev_err("FN.flatten_dict('42')"),
        "Input string must decode to a JSON object or array, got <class 'int'>."
    );
    assert!(ev_err("FN.flatten_dict('{nope')").starts_with("invalid JSON '{nope'"));
    assert_eq!(
        ev_err("FN.flatten_dict({}, 'deep')"),
        "argument 2 must be int, not str"
    );
}

#[test]
fn markdown_table_sorts_columns_and_blanks_nulls() {
    let table = ev_with("FN.to_markdown_table(TRIGGER)", alerts());
    assert_eq!(
        table,
        json!(
            "|count|note|rule|severity|user|\n\
             |-|-|-|-|-|\n\
             |3||Impossible travel|high|alice@corp.example|\n\
             |||Mass download|medium|bob@corp.example|\n\
             |1||Tor exit <node>|||"
        )
    );
    assert_eq!(
        ev_with("FN.tabulate(TRIGGER, 'markdown')", alerts()),
        table
    );
    assert_eq!(ev("FN.to_markdown_table([])"), json!(""));
    assert_eq!(ev("FN.to_markdown_table([{}, {}])"), json!(""));
    assert_eq!(
        ev("FN.to_markdown_table([{'ok': True, 'ids': [1, 2]}])"),
        json!("|ids|ok|\n|-|-|\n|[1, 2]|True|")
    );
}

#[test]
fn tabulate_html_escapes_cells() {
    let rows = json!([{"host": "web-01", "cmd": "<script>alert('x')</script>"}, {"host": null}]);
    assert_eq!(
        ev_with("FN.tabulate(TRIGGER, 'html')", rows),
        json!(
            "<table>\n  <thead>\n    <tr>\n      <th>cmd</th>\n      <th>host</th>\n    </tr>\n  </thead>\n  \
             <tbody>\n    <tr>\n      <td>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;</td>\n      \
             <td>web-01</td>\n    </tr>\n    <tr>\n      <td></td>\n      <td>None</td>\n    </tr>\n  \
             </tbody>\n</table>"
        )
    );
}

#[test]
fn tabulate_csv_quotes_minimally_with_crlf() {
    let rows = json!([
        {"ioc": "evil.example", "comment": "seen in \"invoice\" mail, twice"},
        {"ioc": "198.51.100.4", "hits": 12},
        {"comment": "multi\nline"}
    ]);
    assert_eq!(
        ev_with("FN.tabulate(TRIGGER, 'csv')", rows),
        json!(
            "comment,hits,ioc\r\n\
             \"seen in \"\"invoice\"\" mail, twice\",,evil.example\r\n\
             ,12,198.51.100.4\r\n\
             \"multi\nline\",,\r\n"
        )
    );
    assert_eq!(
        ev("FN.tabulate([{'a': ''}], 'csv')"),
        json!("a\r\n\"\"\r\n")
    );
}

#[test]
fn tabulate_xml_keeps_record_order() {
    let rows = json!([{"user": "alice", "action": "login & <mfa>", "ok": true}, {}, {"note": null}]);
    assert_eq!(
        ev_with("FN.tabulate(TRIGGER, 'xml')", rows),
        json!(
            "<?xml version=\"1.0\" ?>\n<items>\n  <item>\n    <user>alice</user>\n    \
             <action>login &amp; &lt;mfa&gt;</action>\n    <ok>True</ok>\n  </item>\n  <item/>\n  \
             <item>\n    <note/>\n  </item>\n</items>\n"
        )
    );
    assert_eq!(
        ev_err("FN.tabulate([{'first name': 'x'}], 'xml')"),
        "cannot write key 'first name' as an XML element name"
    );
}

#[test]
fn tabulate_errors() {
    assert_eq!(ev("FN.tabulate([], 'xml')"), json!(""));
    assert_eq!(
        ev_err("FN.tabulate([{'a': 1}], 'pdf')"),
        "Unsupported table format. Expected `markdown`, `html`, `csv`, or `xml`, got pdf."
    );
    assert_eq!(
        ev_err("FN.tabulate(['a'], 'csv')"),
        "argument 1 must be a list of dicts, not a list containing str"
    );
    assert_eq!(
        ev_err("FN.tabulate({'a': 1}, 'csv')"),
        "argument 1 must be list, not dict"
    );
}

#[test]
fn markdown_lists_and_tasks() {
    let steps = json!(["Isolate host WS-042", "Reset password for alice", 3]);
    assert_eq!(
        ev_with("FN.to_markdown_list(TRIGGER)", steps.clone()),
        json!("- Isolate host WS-042\n- Reset password for alice\n- 3")
    );
    assert_eq!(
        ev_with("FN.to_markdown_list(TRIGGER, True)", steps.clone()),
        json!("1. Isolate host WS-042\n2. Reset password for alice\n3. 3")
    );
    assert_eq!(
        ev_with("FN.to_markdown_tasks(TRIGGER)", steps),
        json!("- [ ] Isolate host WS-042\n- [ ] Reset password for alice\n- [ ] 3")
    );
    assert_eq!(ev("FN.to_markdown_tasks([])"), json!(""));
    assert_eq!(
        ev_err("FN.to_markdown_list('abc')"),
        "argument 1 must be list, not str"
    );
    assert_eq!(
        ev_err("FN.to_markdown_list([], 'yes')"),
        "argument 2 must be bool, not str"
    );
}

#[test]
fn serialize_yaml_sorts_keys_like_pyyaml() {
    let case = json!({
        "title": "Phishing triage",
        "severity": 3,
        "iocs": ["evil.example", "198.51.100.4"],
        "assignee": null,
        "closed": false,
        "meta": {"source": "o365", "labels": {}}
    });
    assert_eq!(
        ev_with("FN.serialize_yaml(TRIGGER)", case),
        json!(
            "assignee: null\nclosed: false\niocs:\n- evil.example\n- 198.51.100.4\n\
             meta:\n  labels: {}\n  source: o365\nseverity: 3\ntitle: Phishing triage\n"
        )
    );
    assert_eq!(ev("FN.serialize_yaml('abc')"), json!("abc\n...\n"));
    assert_eq!(ev("FN.serialize_yaml(None)"), json!("null\n...\n"));
    assert_eq!(ev("FN.serialize_yaml('123')"), json!("'123'\n"));
    assert_eq!(ev("FN.serialize_yaml([])"), json!("[]\n"));
    // Whatever the layout, the text reads back as the same value.
    assert_eq!(
        ev("FN.deserialize_yaml(FN.serialize_yaml({'b': [{'x': 'multi\nline'}], 'a': '1.5'}))"),
        json!({"a": "1.5", "b": [{"x": "multi\nline"}]})
    );
}

#[test]
fn parse_csv_reads_rows_as_dicts() {
    let export = "timestamp,src_ip,user,action\r\n\
                  2024-05-01T10:00:00Z,198.51.100.4,alice,\"login, failed\"\r\n\
                  \r\n\
                  2024-05-01T10:00:05Z,198.51.100.4,\"bob \"\"the admin\"\"\",login\n\
                  2024-05-01T10:01:00Z,203.0.113.9\n\
                  2024-05-01T10:02:00Z,203.0.113.9,carol,logout,extra1,extra2\n";
    assert_eq!(
        ev_with("FN.parse_csv(TRIGGER.csv)", json!({ "csv": export })),
        json!([
            {"timestamp": "2024-05-01T10:00:00Z", "src_ip": "198.51.100.4", "user": "alice", "action": "login, failed"},
            {"timestamp": "2024-05-01T10:00:05Z", "src_ip": "198.51.100.4", "user": "bob \"the admin\"", "action": "login"},
            {"timestamp": "2024-05-01T10:01:00Z", "src_ip": "203.0.113.9", "user": null, "action": null},
            {"timestamp": "2024-05-01T10:02:00Z", "src_ip": "203.0.113.9", "user": "carol", "action": "logout", "null": ["extra1", "extra2"]}
        ])
    );
}

#[test]
fn parse_csv_edge_cases_follow_python() {
    assert_eq!(ev("FN.parse_csv('')"), json!([]));
    assert_eq!(ev("FN.parse_csv('a,b')"), json!([]));
    assert_eq!(ev("FN.parse_csv('a,b\n1,')"), json!([{"a": "1", "b": ""}]));
    // `splitlines()` runs before the reader, so a quoted line break is lost.
    assert_eq!(
        ev("FN.parse_csv('note\n\"two\nlines\"')"),
        json!([{"note": "twolines"}])
    );
    // An unterminated quote keeps the rest of the input (non-strict reader).
    assert_eq!(
        ev("FN.parse_csv('a\n\"open')"),
        json!([{"a": "open"}])
    );
    assert_eq!(
        ev_err("FN.parse_csv(['a'])"),
        "argument 1 must be str, not list"
    );
}
