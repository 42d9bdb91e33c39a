//! Which earlier results each action reads (`ACTIONS.<ref>` in its expressions, found by the
//! language's one reference walker over the parsed templates), so that its
//! context and its activity's input carry those only, and which results the workflow reads
//! itself, which must come back inline rather than as references to object storage.

use serde_json::{Map, Value};

use ferrocat_dsl::expr::{self, ContextRoot, References};
use ferrocat_dsl::{ActionStatement, EXECUTE, GATHER, LOOP_END, LOOP_START, SCATTER, Workflow};

/// The refs `parts` name as `ACTIONS.<ref>` (or `ACTIONS['<ref>']`), first occurrence first;
/// `None` when a template reads `ACTIONS` any other way (whole, or by a computed key) or does
/// not parse, so that all of them are needed.
fn action_refs(parts: &[&References]) -> Option<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for refs in parts {
        let wholesale = refs.found.iter().any(|r| r.root == ContextRoot::Actions && r.key.is_none());
        if wholesale || !refs.unparsed.is_empty() {
            return None;
        }
        for name in refs.keys(ContextRoot::Actions) {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
    }
    Some(names)
}

/// The refs the templates in `value` name (see [`action_refs`]): what `returns` reads.
pub(super) fn refs_in(value: &Value) -> Option<Vec<String>> {
    action_refs(&[&expr::references(value)])
}

/// One action's references, walked once, by where each expression is evaluated.
pub(super) struct ActionReferences {
    /// Its arguments (keys included) and `for_each`.
    args: References,
    retry_until: References,
    environment: References,
    /// run_if and wait_until, which the workflow evaluates itself.
    workflow_side: References,
    /// The workflow runs it itself (scatter, gather, loops, subflows).
    orchestrated: bool,
}

impl ActionReferences {
    pub(super) fn of(task: &ActionStatement) -> Self {
        let mut args = References::default();
        for (key, value) in &task.args {
            args.add_str(key);
            args.add_value(value);
        }
        if let Some(for_each) = &task.for_each {
            args.add_value(for_each);
        }
        let of_text = |texts: &[Option<&str>]| {
            let mut refs = References::default();
            texts.iter().flatten().for_each(|text| refs.add_str(text));
            refs
        };
        Self {
            args,
            retry_until: of_text(&[task.retry_policy.retry_until.as_deref()]),
            environment: of_text(&[task.environment.as_deref()]),
            workflow_side: of_text(&[task.run_if.as_deref(), task.wait_until.as_deref()]),
            orchestrated: [SCATTER, GATHER, LOOP_START, LOOP_END, EXECUTE].contains(&task.action.as_str()),
        }
    }

    /// The refs its activity evaluates: args, for_each, retry_until, environment.
    pub(super) fn activity(&self) -> Option<Vec<String>> {
        action_refs(&[&self.args, &self.retry_until, &self.environment])
    }

    /// The refs any of its expressions reaches: the activity's, run_if's and wait_until's.
    pub(super) fn all(&self) -> Option<Vec<String>> {
        action_refs(&[&self.args, &self.retry_until, &self.environment, &self.workflow_side])
    }

    /// The refs whose results the workflow reads itself rather than through an activity: in
    /// run_if, wait_until and retry_until, and in every argument of the actions it orchestrates.
    /// Those results must come back inline.
    fn read_by_workflow(&self) -> Option<Vec<String>> {
        if self.orchestrated {
            action_refs(&[&self.workflow_side, &self.retry_until, &self.args, &self.environment])
        } else {
            action_refs(&[&self.workflow_side, &self.retry_until])
        }
    }
}

/// Per action: whether the workflow reads its result itself (see
/// [`ActionReferences::read_by_workflow`]), so that it must not be swapped for a reference to
/// object storage. (`returns` is not among them: when it names a stored result, the executor
/// evaluates it.) `refs` are the actions' references, in order.
pub(super) fn read_by_workflow(dsl: &Workflow, refs: &[ActionReferences]) -> Vec<bool> {
    let mut read: Vec<String> = Vec::new();
    for names in refs.iter().map(ActionReferences::read_by_workflow) {
        match names {
            Some(names) => read.extend(names),
            None => return vec![true; dsl.actions.len()],
        }
    }
    dsl.actions.iter().map(|a| read.contains(&a.ref_)).collect()
}

/// `actions` narrowed to `refs` (`None`: all of them), so each activity input (and so the
/// history) carries what the action needs rather than every earlier result.
pub(super) fn only(actions: Map<String, Value>, refs: Option<&[String]>) -> Map<String, Value> {
    match refs {
        None => actions,
        Some(refs) => {
            let mut actions = actions;
            refs.iter().filter_map(|r| actions.remove(r).map(|entry| (r.clone(), entry))).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn statement(yaml: &str) -> ActionStatement {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn refs_of(dsl: &Workflow) -> Vec<ActionReferences> {
        dsl.actions.iter().map(ActionReferences::of).collect()
    }

    #[test]
    fn an_action_reaches_the_results_its_expressions_name_or_all_of_them() {
        let task = statement(
            "ref: c\naction: core.transform.reshape\nargs: {value: '${{ ACTIONS.a.result }} ${{ ACTIONS.a.error }}'}\n\
             run_if: '${{ ACTIONS.b.result > 1 }}'\nwait_until: '${{ ACTIONS.w.result }}'",
        );
        assert_eq!(ActionReferences::of(&task).all(), Some(vec!["a".to_owned(), "b".to_owned(), "w".to_owned()]));
        // The activity is sent what its own expressions read: run_if and wait_until stay behind.
        assert_eq!(ActionReferences::of(&task).activity(), Some(vec!["a".to_owned()]));
        let dynamic = statement("ref: d\naction: core.transform.reshape\nargs: {value: '${{ ACTIONS }}'}");
        assert_eq!(ActionReferences::of(&dynamic).all(), None);
        let none = statement("ref: e\naction: core.transform.reshape\nargs: {value: 1}");
        assert_eq!(ActionReferences::of(&none).all(), Some(vec![]));
        let mut actions = Map::new();
        for r in ["a", "b", "z"] {
            actions.insert(r.into(), json!({"result": r}));
        }
        assert_eq!(only(actions.clone(), ActionReferences::of(&task).activity().as_deref()).keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!(only(actions.clone(), ActionReferences::of(&dynamic).activity().as_deref()).len(), 3);
    }

    #[test]
    fn activity_inputs_carry_only_the_actions_they_name() {
        let actions: Map<String, Value> =
            serde_json::from_value(json!({"a": {"result": 1}, "b": {"result": 2}, "c": {"result": 3}})).unwrap();
        let task: ActionStatement = serde_json::from_value(json!({
            "ref": "d", "action": "core.transform.reshape",
            "args": {"value": "${{ ACTIONS.a.result + 1 }}"},
            "retry_policy": {"retry_until": "${{ ACTIONS.c.result > 0 }}"},
        }))
        .unwrap();
        assert_eq!(Value::Object(only(actions.clone(), ActionReferences::of(&task).activity().as_deref())), json!({"a": {"result": 1}, "c": {"result": 3}}));
        let indexed: ActionStatement = serde_json::from_value(json!({
            "ref": "d", "action": "core.transform.reshape", "args": {"value": "${{ ACTIONS['b'].result }}"},
        }))
        .unwrap();
        assert_eq!(Value::Object(only(actions.clone(), ActionReferences::of(&indexed).activity().as_deref())), json!({"b": {"result": 2}}), "a quoted key is a name too");
        let computed: ActionStatement = serde_json::from_value(json!({
            "ref": "d", "action": "core.transform.reshape", "args": {"value": "${{ ACTIONS[TRIGGER.which].result }}"},
        }))
        .unwrap();
        assert_eq!(only(actions.clone(), ActionReferences::of(&computed).activity().as_deref()), actions, "a computed key keeps everything");
        let mentioned: ActionStatement = serde_json::from_value(json!({
            "ref": "d", "action": "core.transform.reshape", "args": {"value": "ACTIONS.a is not a template", "x": "${{ ACTIONS.c.result }}"},
        }))
        .unwrap();
        assert_eq!(ActionReferences::of(&mentioned).activity(), Some(vec!["c".to_owned()]), "text outside templates is not a read");
    }

    #[test]
    fn results_the_workflow_reads_itself_stay_inline() {
        let dsl: Workflow = serde_yaml::from_str(
            "title: t\ndescription: d\nentrypoint: {ref: a}\nreturns: '${{ ACTIONS.r.result }}'\nactions:\n\
             - {ref: a, action: core.http_request, args: {url: x}}\n\
             - {ref: b, action: core.http_request, args: {url: x}}\n\
             - {ref: c, action: core.http_request, args: {url: x}}\n\
             - {ref: r, action: core.http_request, args: {url: x}}\n\
             - {ref: s, action: core.transform.scatter, depends_on: [a], args: {collection: '${{ ACTIONS.a.result }}'}}\n\
             - {ref: u, action: core.transform.reshape, depends_on: [b], run_if: '${{ ACTIONS.b.result }}', args: {value: '${{ ACTIONS.c.result }}'}}\n",
        )
        .unwrap();
        // a: a scatter's collection; b: a run_if. c is only read by an activity, r by returns
        // (which the executor evaluates when it names a stored result).
        assert_eq!(read_by_workflow(&dsl, &refs_of(&dsl)), [true, true, false, false, false, false]);
        let mut wholesale = dsl.clone();
        wholesale.actions[5].run_if = Some("${{ FN.length(ACTIONS) > 0 }}".into());
        assert!(read_by_workflow(&wholesale, &refs_of(&wholesale)).iter().all(|inline| *inline), "ACTIONS used wholesale keeps every result inline");
    }
}
