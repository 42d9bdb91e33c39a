//! `core.table.*`: Tracecat's 16 lookup-table actions, each parsing its arguments into a
//! [`TableCall`] and handing it to the [`TableHost`] of the process (the use-case layer,
//! `ferrocat_app::tables`), so an action reads and writes a table exactly as the api does.

pub mod port;

pub use port::*;

use serde_json::{Map, Value};

use super::{ActionError, parse_args};
use crate::table::{Action, BoxFuture, Call, Handler};

/// Reads an action's arguments into its call.
type Parse = fn(Map<String, Value>) -> Result<TableCall, ActionError>;

/// One row of [`table`]: name (after `core.table.`), title, description, parser, schema.
type Row = (&'static str, &'static str, &'static str, Parse, fn() -> Value);

macro_rules! call {
    ($variant:ident) => {
        |a| Ok(TableCall::$variant(parse_args(a)?))
    };
}

fn table() -> Vec<Row> {
    fn schema<T: schemars::JsonSchema>() -> Value {
        serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
    }
    vec![
        ("lookup", "Lookup row", "Get the first row of a table whose column equals the value, or null.", call!(Lookup), schema::<LookupArgs>),
        ("lookup_many", "Lookup many rows", "Get the rows of a table whose column equals the value (at most limit, up to 200).", call!(LookupMany), schema::<LookupManyArgs>),
        ("is_in", "Is in table", "Whether a value is in a table's column (with values: a list of answers, one for each).", call!(IsIn), schema::<IsInArgs>),
        ("search_rows", "Search rows", "Search a table's rows by text and by creation and update times.", call!(SearchRows), schema::<SearchRowsArgs>),
        ("insert_row", "Insert row", "Insert a row into a table (or update it by the unique column, with upsert); returns the row.", call!(InsertRow), schema::<InsertRowArgs>),
        ("insert_rows", "Insert rows", "Insert up to 1000 rows into a table, all or none; returns how many.", call!(InsertRows), schema::<InsertRowsArgs>),
        ("update_row", "Update row", "Change a row's values; returns the row.", call!(UpdateRow), schema::<UpdateRowArgs>),
        ("delete_row", "Delete row", "Delete a row of a table.", call!(DeleteRow), schema::<DeleteRowArgs>),
        ("create_table", "Create table", "Create a table with typed columns.", call!(CreateTable), schema::<CreateTableArgs>),
        ("list_tables", "List tables", "The workspace's tables.", call!(ListTables), schema::<NoArgs>),
        ("get_table_metadata", "Get table metadata", "A table's columns, their types, and which is the unique key.", call!(GetTableMetadata), schema::<TableNameArgs>),
        ("update_table", "Update table", "Rename a table.", call!(UpdateTable), schema::<UpdateTableArgs>),
        ("create_column", "Create column", "Add a column to a table.", call!(CreateColumn), schema::<CreateColumnArgs>),
        ("update_column", "Update column", "Rename a column, change its type, null allowance, default, options or unique key.", call!(UpdateColumn), schema::<UpdateColumnArgs>),
        ("delete_column", "Delete column", "Delete a column with its values.", call!(DeleteColumn), schema::<DeleteColumnArgs>),
        ("download", "Download table", "A table's rows (up to 1000) as a list, or as JSON, NDJSON, CSV or Markdown text.", call!(Download), schema::<DownloadArgs>),
    ]
}

/// The `core.table.*` actions of the table.
pub(crate) fn actions() -> Vec<Action> {
    table()
        .into_iter()
        .map(|(name, title, description, parse, schema)| {
            Action::effect_with(&format!("core.table.{name}"), title, description, std::sync::Arc::new(TableAction(parse))).schema(schema())
        })
        .collect()
}

/// Runs one table action: parses its arguments, then hands it to the host.
struct TableAction(Parse);

impl Handler for TableAction {
    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Value, ActionError>> {
        Box::pin(run(call, self.0))
    }
}

async fn run(call: Call<'_>, parse: Parse) -> Result<Value, ActionError> {
    let (name, deps) = (call.name, call.deps);
    let (host, run, args) = super::platform_call(call, deps.tables.as_deref(), "table")?;
    let started = std::time::Instant::now();
    let result = host.run(parse(args)?, run).await;
    // Each call's time inside the action (benchmarks read it at debug level; a for_each runs
    // its calls in one activity).
    tracing::debug!(action = name, micros = started.elapsed().as_micros() as u64, ok = result.is_ok(), "table action ran");
    result
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::json;

    use ferrocat_shared::temporal::RunContext;

    use super::*;
    use crate::ActionDeps;

    /// Keeps what it is asked to do.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl TableHost for Recorder {
        fn run<'a>(&'a self, call: TableCall, run: &'a RunContext) -> HostFuture<'a> {
            self.0.lock().unwrap().push(format!("{}: {call:?}", run.wf_exec_id));
            Box::pin(async { Ok(json!({"ok": true})) })
        }
    }

    #[tokio::test]
    async fn every_action_parses_tracecats_arguments_and_secrets_never_reach_a_table() {
        let host = Arc::new(Recorder::default());
        let http = crate::actions::http::client(Arc::new(ferrocat_shared::egress::EgressPolicy::permissive())).unwrap();
        let deps = ActionDeps { tables: Some(host.clone() as Arc<dyn TableHost>), ..ActionDeps::with_http(http) };
        let run = RunContext {
            wf_id: "wf_x".into(),
            wf_exec_id: "wf_x/exec_y".into(),
            wf_run_id: "r".into(),
            workspace_id: uuid::Uuid::nil(),
            environment: "default".into(),
            registry_lock: vec![],
        };
        let secrets = json!({"feed": {"KEY": "feed-key-93b1"}});
        let calls = [
            ("lookup", json!({"table": "ips", "column": "ip", "value": "1.2.3.4"})),
            ("lookup_many", json!({"table": "ips", "column": "ip", "value": "1.2.3.4", "limit": 5})),
            ("is_in", json!({"table": "ips", "column": "ip", "values": ["a", "b"]})),
            ("search_rows", json!({"table": "ips", "search_term": "x", "paginate": true})),
            ("insert_row", json!({"table": "ips", "row_data": {"ip": "feed-key-93b1"}, "upsert": true})),
            ("insert_rows", json!({"table": "ips", "rows_data": [{"ip": "a"}]})),
            ("update_row", json!({"table": "ips", "row_id": "r", "row_data": {"ip": "b"}})),
            ("delete_row", json!({"table": "ips", "row_id": "r"})),
            ("create_table", json!({"name": "ips", "columns": [{"name": "ip", "type": "TEXT"}]})),
            ("list_tables", json!({})),
            ("get_table_metadata", json!({"name": "ips"})),
            ("update_table", json!({"name": "ips", "new_name": "bad_ips"})),
            ("create_column", json!({"table": "ips", "column": {"name": "score", "type": "INTEGER", "default": 0}})),
            ("update_column", json!({"table": "ips", "column": "score", "update": {"is_index": true, "default": null}})),
            ("delete_column", json!({"table": "ips", "column": "score"})),
            ("download", json!({"name": "ips", "format": "csv"})),
        ];
        for (name, args) in calls {
            let full = format!("core.table.{name}");
            let call = Call::new(&full, args.as_object().cloned().unwrap(), &deps, secrets.as_object().unwrap()).in_run(&run);
            crate::global().run(&full, call).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let seen = host.0.lock().unwrap().join("\n");
        assert!(!seen.contains("feed-key-93b1") && seen.contains("***"), "{seen}");
        assert!(seen.contains("default: Some(None)"), "a null default clears: {seen}");
        assert_eq!(actions().len(), 16, "Tracecat's core.table set");

        let none = Map::new();
        let bad = Call::new("core.table.download", json!({"name": "ips", "format": "xml"}).as_object().cloned().unwrap(), &deps, &none).in_run(&run);
        let error = crate::global().run("core.table.download", bad).await.unwrap_err().to_string();
        assert!(error.contains("unknown variant `xml`"), "{error}");
    }
}
