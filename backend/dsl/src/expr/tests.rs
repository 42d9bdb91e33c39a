//! End-to-end tests of expression evaluation: operators, contexts, jsonpath shapes, casts,
//! functions and `for_each`.

use serde_json::{Value, json};

use super::*;

mod iocs;
mod tables;
mod time;

fn ctx() -> ExprContext {
    let mut c = ExprContext {
        trigger: json!({
            "data": {"arg1": 1, "arg2": 2},
            "users": [
                {"name": "Alice", "gender": "female", "age": 30, "tags": ["a"]},
                {"name": "Bob", "gender": "male", "age": 17, "tags": []},
                {"name": "Carol", "gender": "other", "age": 45}
            ],
            "headers": {"content-type": "json", "x.y": 5},
            "empty": [],
            "nested": {"id": 1, "child": {"id": 2, "deeper": [{"id": 3}]}}
        }),
        ..ExprContext::default()
    };
    c.actions.insert(
        "a".into(),
        json!({"result": {"valid": 1, "list": [1, 2, 3]}, "result_typename": "dict"}),
    );
    c.actions
        .insert("b".into(), json!({"result": "1", "result_typename": "str"}));
    c.actions.insert(
        "none".into(),
        json!({"result": null, "result_typename": "NoneType"}),
    );
    c.secrets.insert("slack".into(), json!({"TOKEN": "xoxb"}));
    c.vars
        .insert("cfg".into(), json!({"url": "https://x", "retries": 3}));
    c.env.insert("environment".into(), json!("default"));
    c.env.insert("workflow".into(), json!({"run_id": "r1"}));
    c.var.insert("x".into(), json!(5));
    c
}

fn ev(expr: &str) -> Value {
    eval_expression(expr, &ctx()).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

/// The innermost error message of a failing evaluation.
fn ev_err(expr: &str) -> String {
    match eval_expression(expr, &ctx()) {
        Ok(v) => panic!("{expr} evaluated to {v}"),
        Err(e) => e.root_cause().to_string(),
    }
}

#[test]
fn reference_type_and_cast_cases() {
    assert_eq!(ev("TRIGGER.data.arg2 -> str"), json!("2"));
    assert_eq!(ev("(1 + 10) > 3 -> str"), json!("True"));
    assert_eq!(ev("1 if True else 1/0"), json!(1));
    assert_eq!(ev("[1,2] + [3]"), json!([1, 2, 3]));
    assert_eq!(ev("FN.sum([1, FN.sub(2,3), 1 - 1])"), json!(0));
    assert_eq!(
        ev_err("int(ACTIONS.a.result.invalid) + int(2)"),
        "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"
    );
    assert_eq!(ev("int(ACTIONS.b.result) + 1"), json!(2));
    assert_eq!(ev("FN.is_equal(ACTIONS.b.result, str(2))"), json!(false));
}

#[test]
fn arithmetic_follows_python() {
    assert_eq!(ev("7 / 2"), json!(3.5));
    assert_eq!(ev("6 / 3"), json!(2.0));
    assert_eq!(ev("7 % 3"), json!(1));
    assert_eq!(ev("-7 % 3"), json!(2));
    assert_eq!(ev("2 * 3 + 1"), json!(7));
    assert_eq!(ev("2 * (3 + 1)"), json!(8));
    assert_eq!(ev("1 + 2.5"), json!(3.5));
    assert_eq!(ev("'ab' + 'cd'"), json!("abcd"));
    assert_eq!(ev("'ab' * 2"), json!("abab"));
    assert_eq!(ev("- -3"), json!(3));
    assert_eq!(ev("-(2)"), json!(-2));
    assert_eq!(ev("True + 1"), json!(2));
    assert_eq!(ev_err("1/0"), "Cannot divide by zero");
    assert_eq!(ev_err("1 % 0"), "Cannot calculate modulo with zero");
    assert_eq!(
        ev_err("1 + 'a'"),
        "unsupported operand type(s) for +: 'int' and 'str'"
    );
    assert_eq!(ev_err("-'a'"), "bad operand type for unary -: 'str'");
}

#[test]
fn comparisons_are_pairwise_and_left_associative() {
    assert_eq!(ev("1 < 2"), json!(true));
    assert_eq!(ev("1 == 1.0"), json!(true));
    assert_eq!(ev("'a' != 'b'"), json!(true));
    assert_eq!(ev("2 >= 2"), json!(true));
    // (1 < 2) < 3 is True < 3 is 1 < 3.
    assert_eq!(ev("1 < 2 < 3"), json!(true));
    // (3 > 2) > 1 is True > 1 is False, unlike Python's chained comparison.
    assert_eq!(ev("3 > 2 > 1"), json!(false));
    assert_eq!(
        ev_err("'a' < 1"),
        "'<' not supported between instances of 'str' and 'int'"
    );
}

#[test]
fn logic_returns_operands_and_evaluates_both_sides() {
    assert_eq!(ev("None || 'x'"), json!("x"));
    assert_eq!(ev("'a' || 'b'"), json!("a"));
    assert_eq!(ev("0 && 'b'"), json!(0));
    assert_eq!(ev("1 && 'b'"), json!("b"));
    assert_eq!(ev("not None"), json!(true));
    assert_eq!(ev("not 1 == 1"), json!(false));
    assert_eq!(ev_err("True || 1/0"), "Cannot divide by zero");
    assert_eq!(ev("False if True else True"), json!(false));
    assert_eq!(ev("'a' if None else 'b' if 0 else 'c'"), json!("c"));
}

#[test]
fn membership_and_identity_operators() {
    assert_eq!(ev("'ell' in 'hello'"), json!(true));
    assert_eq!(ev("2 in [1, 2]"), json!(true));
    assert_eq!(ev("'k' in {'k': 1}"), json!(true));
    assert_eq!(ev("3 not in [1, 2]"), json!(true));
    assert_eq!(ev("1 in [1] == True"), json!(true));
    assert_eq!(ev("ACTIONS.none.result is None"), json!(true));
    assert_eq!(ev("ACTIONS.a.result is not None"), json!(true));
    assert_eq!(
        ev_err("1 in None"),
        "argument of type 'NoneType' is not iterable"
    );
}

#[test]
fn literals_lists_dicts_and_indexers() {
    assert_eq!(ev("[]"), json!([]));
    assert_eq!(ev("{}"), json!({}));
    assert_eq!(
        ev(r#"{"a": 1 + 1, 'b': [None, True]}"#),
        json!({"a": 2, "b": [null, true]})
    );
    assert_eq!(ev("'a\\nb'"), json!("a\\nb"));
    assert_eq!(ev("[1, 2, 3][-1]"), json!(3));
    assert_eq!(ev("{'k': [1, 2]}['k'][0]"), json!(1));
    assert_eq!(ev("FN.split('a,b,c', ',')[1]"), json!("b"));
    assert_eq!(ev("(ACTIONS.a.result.list)[0]"), json!(1));
    assert_eq!(ev("ACTIONS.a.result.list[1 + 1]"), json!(3));
    assert_eq!(ev_err("[1][5]"), "Sequence index 5 out of range");
    assert_eq!(ev_err("[1]['a']"), "Sequence indices must be integers");
    assert_eq!(
        ev_err("{'foo': 1}['bar']"),
        "Key 'bar' not found for mapping access"
    );
    assert_eq!(ev_err("(1)[0]"), "Object of type 'int' is not indexable");
}

#[test]
fn casts() {
    assert_eq!(ev("int('42')"), json!(42));
    assert_eq!(ev("float('2.5')"), json!(2.5));
    assert_eq!(ev("int(2.9)"), json!(2));
    assert_eq!(ev("str(True)"), json!("True"));
    assert_eq!(ev("str([1, 'a'])"), json!("[1, 'a']"));
    assert_eq!(ev("bool('yes')"), json!(false));
    assert_eq!(ev("bool('True')"), json!(true));
    assert_eq!(ev("bool([1])"), json!(true));
    assert_eq!(ev("1 -> float"), json!(1.0));
    assert_eq!(ev("'0' -> bool"), json!(false));
    assert_eq!(
        ev_err("int('1.5')"),
        "invalid literal for int() with base 10: '1.5'"
    );
}

#[test]
fn contexts_resolve_from_the_context() {
    assert_eq!(ev("ACTIONS.b.result"), json!("1"));
    assert_eq!(ev("ACTIONS.a.result_typename"), json!("dict"));
    assert_eq!(ev("SECRETS.slack.TOKEN"), json!("xoxb"));
    assert_eq!(ev("VARS.cfg.retries"), json!(3));
    assert_eq!(ev("VARS.cfg"), json!({"url": "https://x", "retries": 3}));
    assert_eq!(ev("ENV.workflow.run_id"), json!("r1"));
    assert_eq!(ev("ENV.environment"), json!("default"));
    assert_eq!(ev("var.x + 1"), json!(6));
    assert_eq!(ev("TRIGGER")["data"], json!({"arg1": 1, "arg2": 2}));
    let empty = ExprContext::default();
    assert_eq!(eval_expression("TRIGGER", &empty).unwrap(), json!(null));
}

#[test]
fn template_action_contexts() {
    let mut c = ExprContext::default();
    c.inputs.insert("status".into(), json!("in_progress"));
    c.steps.insert("first".into(), json!({"result": [1, 2]}));
    assert_eq!(
        eval_expression("FN.capitalize(FN.replace(inputs.status, '_', ' '))", &c).unwrap(),
        json!("In progress")
    );
    assert_eq!(
        eval_expression("steps.first.result[-1]", &c).unwrap(),
        json!(2)
    );
}

#[test]
fn missing_paths_are_none() {
    assert_eq!(ev("ACTIONS.missing.result"), json!(null));
    assert_eq!(ev("TRIGGER.nope.deeper"), json!(null));
    assert_eq!(ev("TRIGGER.users[10]"), json!(null));
    assert_eq!(ev("TRIGGER.data.arg1.x"), json!(null));
    assert_eq!(ev("SECRETS.nope.KEY"), json!(null));
}

#[test]
fn jsonpath_shapes() {
    assert_eq!(ev("TRIGGER.users[0].name"), json!("Alice"));
    assert_eq!(ev("TRIGGER.users[-1].name"), json!("Carol"));
    assert_eq!(ev("TRIGGER.users.[1].name"), json!("Bob"));
    assert_eq!(ev("TRIGGER.headers.'content-type'"), json!("json"));
    assert_eq!(ev("TRIGGER.headers.\"x.y\""), json!(5));
    assert_eq!(ev("TRIGGER.headers['content-type']"), json!("json"));
    assert_eq!(
        ev("TRIGGER.users[*].name"),
        json!(["Alice", "Bob", "Carol"])
    );
    // `[*]` always gives a list, even for one match or none.
    assert_eq!(ev("TRIGGER.users[0].tags[*]"), json!(["a"]));
    assert_eq!(ev("TRIGGER.empty[*]"), json!([]));
    // Several matches without `[*]` also give a list.
    assert_eq!(ev("TRIGGER.users.*.age"), json!([30, 17, 45]));
    assert_eq!(ev("TRIGGER.users[0:2].name"), json!(["Alice", "Bob"]));
    assert_eq!(ev("ACTIONS.a.result.list[*]"), json!([1, 2, 3]));
}

#[test]
fn jsonpath_descendants_and_filters() {
    assert_eq!(ev("TRIGGER.nested..id"), json!([1, 2, 3]));
    assert_eq!(ev("TRIGGER..deeper[0].id"), json!(3));
    assert_eq!(
        ev("TRIGGER.users[?(@.age >= 18)].name"),
        json!(["Alice", "Carol"])
    );
    assert_eq!(
        ev("TRIGGER.users[?(@.gender == 'female')].name"),
        json!(["Alice"])
    );
    assert_eq!(ev("TRIGGER.users[?@.age < 18].name"), json!(["Bob"]));
    // Tracecat quirk: a bare filter with one match is a scalar.
    assert_eq!(
        ev("TRIGGER.users[?gender == 'female'].name"),
        json!("Alice")
    );
    assert_eq!(
        ev("TRIGGER.users[?age > 10 & age < 40].name"),
        json!(["Alice", "Bob"])
    );
    assert_eq!(ev("TRIGGER.users[?(@.tags)].name"), json!(["Alice", "Bob"]));
    assert_eq!(ev("TRIGGER.users[?(@.name =~ '^C')].age"), json!([45]));
    assert_eq!(ev("TRIGGER.users[?(@.age > 100)]"), json!([]));
}

#[test]
fn functions_and_map_broadcasting() {
    assert_eq!(ev("FN.uppercase('abc')"), json!("ABC"));
    assert_eq!(ev("FN.concat(str(1), 'one')"), json!("1one"));
    assert_eq!(
        ev("FN.format.map('Got {}!', ['u1', 'u2'])"),
        json!(["Got u1!", "Got u2!"])
    );
    assert_eq!(ev("FN.add.map([1, 2, 3], [10, 20])"), json!([11, 22]));
    assert_eq!(ev("FN.add.map(1, 2)"), json!([3]));
    assert_eq!(
        ev("FN.lookup.map({'a': 1, 'b': 2}, ['a', 'b', 'c'])"),
        json!([1, 2, null])
    );
    assert_eq!(
        eval_expression("FN.nope(1)", &ctx())
            .unwrap_err()
            .to_string(),
        "Unknown function 'nope'"
    );
    let err = eval_expression("FN.div(1, 0)", &ctx()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Error evaluating expression `FN.div(1, 0)`\n\nReason: FN.div: Cannot divide by zero"
    );
    assert_eq!(err.root_cause(), &ExprError::DivisionByZero);
}

#[test]
fn iterator_outside_for_each_is_an_error() {
    assert_eq!(
        ev_err("for var.x in [1]"),
        "an iterator expression (for var.x in ...) is only valid in for_each"
    );
}

#[test]
fn for_each_zips_to_the_shortest_and_nests_vars() {
    let spec = json!([
        "${{ for var.x in [1,2,3] }}",
        "${{ for var.y in ['one','two'] }}"
    ]);
    let vars = eval_for_each(&spec, &ExprContext::default()).unwrap();
    assert_eq!(vars.len(), 2);
    assert_eq!(Value::Object(vars[1].clone()), json!({"x": 2, "y": "two"}));
    let nested = eval_for_each(&json!("${{ for var.a.b in TRIGGER.data }}"), &ctx()).unwrap();
    assert_eq!(nested.len(), 2);
    assert_eq!(nested[0]["a"], json!({"b": "arg1"}));
    assert_eq!(nested[0]["x"], json!(5), "outer var bindings are kept");

    // The reference example: interpolate per iteration.
    let mut c = ExprContext::default();
    let mut out = Vec::new();
    for var in eval_for_each(&spec, &c.clone()).unwrap() {
        c.var = var;
        out.push(
            eval_templated(
                &json!("I received ${{ FN.concat(str(var.x), var.y) }} from you"),
                &c,
            )
            .unwrap(),
        );
    }
    assert_eq!(
        out,
        vec![
            json!("I received 1one from you"),
            json!("I received 2two from you")
        ]
    );
}

#[test]
fn for_each_errors() {
    let c = ExprContext::default();
    assert_eq!(
        eval_for_each(&json!("${{ [1] }}"), &c)
            .unwrap_err()
            .to_string(),
        "expected an iterator expression like `${{ for var.x in ... }}`"
    );
    assert_eq!(
        eval_for_each(&json!(5), &c).unwrap_err().to_string(),
        "invalid for_each 5: expected a string or a list of strings"
    );
    assert_eq!(
        eval_for_each(&json!("${{ for var.x in None }}"), &c)
            .unwrap_err()
            .root_cause()
            .to_string(),
        "'NoneType' object is not iterable"
    );
    assert!(
        eval_for_each(&json!("${{ for var.x in [] }}"), &c)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn referenced_actions_and_contexts() {
    let e = parse_expression(
        "FN.add(ACTIONS.a.result, ACTIONS.b.result) if ACTIONS.a.error else var.x",
    )
    .unwrap();
    assert_eq!(referenced_actions(&e), vec!["a".to_owned(), "b".to_owned()]);
    assert_eq!(
        referenced_contexts(&e),
        vec![ContextRoot::Actions, ContextRoot::Var]
    );
    let it = parse_expression("for var.x in ACTIONS.c.result[*]").unwrap();
    assert_eq!(referenced_actions(&it), vec!["c".to_owned()]);
}

#[test]
fn function_registry_has_no_duplicates() {
    let names: Vec<&str> = function_names().collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len());
    assert!(names.len() > 80);
}

mod functions {
    //! One or more assertions per registered function.

    use super::*;

    #[test]
    fn strings() {
        assert_eq!(ev("FN.capitalize('hELLO world')"), json!("Hello world"));
        assert_eq!(ev("FN.titleize(\"they're 1st\")"), json!("They'Re 1St"));
        assert_eq!(ev("FN.lowercase('ABC')"), json!("abc"));
        assert_eq!(ev("FN.concat('a', 'b', 'c')"), json!("abc"));
        assert_eq!(
            ev_err("FN.concat('a', 1)"),
            "sequence item 1: expected str instance, int found"
        );
        assert_eq!(
            ev("FN.format('{} + {} = {}', 1, 2.5, None)"),
            json!("1 + 2.5 = None")
        );
        assert_eq!(ev("FN.format('{1}{0}{{x}}', 'a', 'b')"), json!("ba{x}"));
        assert_eq!(ev("FN.format('{:.2f}', 3.14159)"), json!("3.14"));
        assert_eq!(
            ev_err("FN.format('{} {}', 1)"),
            "Replacement index 1 out of range for positional args tuple"
        );
        assert_eq!(ev("FN.join(['a', 'b'], '\\n')"), json!("a\nb"));
        assert_eq!(ev("FN.join(['a', 'b'], ', ')"), json!("a, b"));
        assert_eq!(ev("FN.split('a,b,,c', ',')"), json!(["a", "b", "", "c"]));
        assert_eq!(ev("FN.split('  a  b ')"), json!(["a", "b"]));
        assert_eq!(ev_err("FN.split('a', '')"), "empty separator");
        assert_eq!(ev("FN.strip('xxhixx', 'x')"), json!("hi"));
        assert_eq!(ev("FN.strip('  hi ')"), json!("hi"));
        assert_eq!(ev("FN.replace('a-b-c', '-', '+')"), json!("a+b+c"));
        assert_eq!(ev("FN.slice('hello', 1, 3)"), json!("ell"));
        assert_eq!(ev("FN.slice('hello', -3, 2)"), json!("ll"));
        assert_eq!(ev("FN.prefix('b', 'a')"), json!("ab"));
        assert_eq!(ev("FN.prefix(['x', 'y'], 'p_')"), json!(["p_x", "p_y"]));
        assert_eq!(ev("FN.suffix(['x', 1], '_s')"), json!(["x_s", "1_s"]));
        assert_eq!(ev("FN.startswith('hello', 'he')"), json!(true));
        assert_eq!(ev("FN.endswith('hello', 'lo')"), json!(true));
        assert_eq!(ev("FN.slugify('Hello World!')"), json!("hello-world"));
        assert_eq!(
            ev("FN.url_encode('a b/c?d=é')"),
            json!("a%20b%2Fc%3Fd%3D%C3%A9")
        );
        assert_eq!(ev("FN.url_encode('a b/c', '/')"), json!("a%20b/c"));
        assert_eq!(
            ev("FN.url_decode('a%20b%2Fc%C3%A9%zz')"),
            json!("a b/cé%zz")
        );
        assert_eq!(ev_err("FN.uppercase(1)"), "argument 1 must be str, not int");
        assert_eq!(
            ev_err("FN.uppercase('a', 'b')"),
            "takes 1 argument but 2 were given"
        );
    }

    #[test]
    fn regex() {
        assert_eq!(
            ev("FN.regex_extract('id=(\\d+)', 'x id=42 y')"),
            json!("42")
        );
        assert_eq!(ev("FN.regex_extract('\\d+', 'abc 123')"), json!("123"));
        assert_eq!(ev("FN.regex_extract('(a)|(b)', 'b')"), json!("b"));
        assert_eq!(ev("FN.regex_extract('z', 'abc')"), json!(null));
        assert_eq!(ev("FN.regex_match('ab', 'abc')"), json!(true));
        assert_eq!(ev("FN.regex_match('bc', 'abc')"), json!(false));
        assert_eq!(ev("FN.regex_not_match('bc', 'abc')"), json!(true));
        assert!(ev_err("FN.regex_match('(', 'abc')").starts_with("invalid regular expression '('"));
    }

    #[test]
    fn comparison_and_logic() {
        assert_eq!(ev("FN.is_equal(1, 1.0)"), json!(true));
        assert_eq!(ev("FN.not_equal(1, 2)"), json!(true));
        assert_eq!(ev("FN.is_not_equal('a', 'a')"), json!(false));
        assert_eq!(ev("FN.less_than(1, 2)"), json!(true));
        assert_eq!(ev("FN.less_than_or_equal(2, 2)"), json!(true));
        assert_eq!(ev("FN.greater_than('b', 'a')"), json!(true));
        assert_eq!(ev("FN.greater_than_or_equal(1, 2)"), json!(false));
        assert_eq!(ev("FN.is_null(None)"), json!(true));
        assert_eq!(ev("FN.not_null(0)"), json!(true));
        assert_eq!(ev("FN.is_not_null(None)"), json!(false));
        assert_eq!(ev("FN.and(True, False)"), json!(false));
        assert_eq!(ev("FN.or(False, True)"), json!(true));
        assert_eq!(ev("FN.not(True)"), json!(false));
    }

    #[test]
    fn collections() {
        assert_eq!(ev("FN.length([1, 2])"), json!(2));
        assert_eq!(ev("FN.length('héllo')"), json!(5));
        assert_eq!(ev("FN.length({'a': 1})"), json!(1));
        assert_eq!(ev_err("FN.length(1)"), "object of type 'int' has no len()");
        assert_eq!(ev("FN.at([1, 2, 3], -1)"), json!(3));
        assert_eq!(ev("FN.contains(2, [1, 2])"), json!(true));
        assert_eq!(ev("FN.is_in('b', 'abc')"), json!(true));
        assert_eq!(ev("FN.not_in(3, [1, 2])"), json!(true));
        assert_eq!(ev("FN.does_not_contain(1, [1])"), json!(false));
        assert_eq!(ev("FN.is_not_in('k', {'k': 1})"), json!(false));
        assert_eq!(ev("FN.contains_any_of([1, 2, 3], [5, 3])"), json!(true));
        assert_eq!(ev("FN.contains_none_of([1, 2, 3], [5, 6])"), json!(true));
        assert_eq!(ev("FN.is_empty([])"), json!(true));
        assert_eq!(ev("FN.is_empty('')"), json!(true));
        assert_eq!(ev("FN.not_empty({'a': 1})"), json!(true));
        assert_eq!(ev("FN.is_not_empty([])"), json!(false));
        assert_eq!(ev("FN.compact([1, None, '', 0])"), json!([1, "", 0]));
        assert_eq!(ev("FN.drop_nulls([1, None, '', 0])"), json!([1, 0]));
        assert_eq!(
            ev("FN.flatten([1, [2, [3, [4]]], {'a': [5]}])"),
            json!([1, 2, 3, 4, {"a": [5]}])
        );
        assert_eq!(ev("FN.unique([3, 1, 3, 1.0, 2])"), json!([3, 1, 2]));
        assert_eq!(ev_err("FN.unique([[1], [1]])"), "unhashable type: 'list'");
        assert_eq!(ev("FN.union([1, 2], [2, 3])"), json!([1, 2, 3]));
        assert_eq!(ev("FN.intersection([1, 2, 3], [3, 2, 5])"), json!([2, 3]));
        assert_eq!(ev("FN.difference([1, 2, 3], [2])"), json!([1, 3]));
        assert_eq!(ev("FN.symmetric_difference([1, 2], [2, 3])"), json!([1, 3]));
        assert_eq!(
            ev("FN.zip([1, 2, 3], ['a', 'b'])"),
            json!([[1, "a"], [2, "b"]])
        );
        assert_eq!(
            ev("FN.iter_product([1, 2], ['a', 'b'])"),
            json!([[1, "a"], [1, "b"], [2, "a"], [2, "b"]])
        );
        assert_eq!(ev("FN.range(0, 5)"), json!([0, 1, 2, 3, 4]));
        assert_eq!(ev("FN.range(5, 0, -2)"), json!([5, 3, 1]));
        assert_eq!(ev("FN.range(3)"), json!([0, 1, 2]));
        assert_eq!(
            ev_err("FN.range(0, 5, 0)"),
            "range() arg 3 must not be zero"
        );
        assert_eq!(
            ev("FN.zip_map(['a', 'b'], [1, 2])"),
            json!({"a": 1, "b": 2})
        );
    }

    #[test]
    fn math() {
        assert_eq!(ev("FN.add(1, 2)"), json!(3));
        assert_eq!(ev("FN.sub(1, 2.5)"), json!(-1.5));
        assert_eq!(ev("FN.mul(3, 4)"), json!(12));
        assert_eq!(ev("FN.div(1, 2)"), json!(0.5));
        assert_eq!(ev("FN.mod(10, 3)"), json!(1));
        assert_eq!(ev("FN.pow(2, 8)"), json!(256));
        assert_eq!(ev("FN.sum([1, 2.5])"), json!(3.5));
        assert_eq!(ev("FN.sum([1, 2], 10)"), json!(13));
        assert_eq!(ev("FN.min(3, 1)"), json!(1));
        assert_eq!(ev("FN.max([3, 7, 1])"), json!(7));
        assert_eq!(ev_err("FN.max([])"), "max() arg is an empty sequence");
        assert_eq!(ev_err("FN.mod(1, 0)"), "Cannot calculate modulo with zero");
    }

    #[test]
    fn objects() {
        assert_eq!(ev("FN.lookup({'a': 1}, 'a')"), json!(1));
        assert_eq!(ev("FN.lookup({'a': 1}, 'b')"), json!(null));
        assert_eq!(ev("FN.lookup({'a': 1}, 'b', 0)"), json!(0));
        assert_eq!(
            ev("FN.map_keys({'a': 1, 'b': 2}, {'a': 'x', 'b': 'y'})"),
            json!({"x": 1, "y": 2})
        );
        assert_eq!(
            ev_err("FN.map_keys({'a': 1}, {})"),
            "Key 'a' not found for mapping access"
        );
        assert_eq!(
            ev("FN.merge([{'a': 1, 'b': 1}, {'b': 2}])"),
            json!({"a": 1, "b": 2})
        );
        assert_eq!(ev("FN.to_keys({'a': 1, 'b': 2})"), json!(["a", "b"]));
        assert_eq!(ev("FN.to_values({'a': 1, 'b': 2})"), json!([1, 2]));
    }

    #[test]
    fn json_and_yaml() {
        assert_eq!(ev("FN.is_json('{\"a\": 1}')"), json!(true));
        assert_eq!(ev("FN.is_json('nope')"), json!(false));
        assert_eq!(ev("FN.is_json(1)"), json!(false));
        assert_eq!(
            ev("FN.deserialize_json('{\"a\": [1, 2.5]}')"),
            json!({"a": [1, 2.5]})
        );
        assert_eq!(
            ev("FN.serialize_json({'a': [1, None]})"),
            json!(r#"{"a":[1,null]}"#)
        );
        assert_eq!(ev("FN.serialize({'a': 1})"), json!(r#"{"a":1}"#));
        assert_eq!(ev("FN.prettify_json({'a': 1})"), json!("{\n  \"a\": 1\n}"));
        assert_eq!(
            ev("FN.deserialize_ndjson('{\"a\": 1}\n{\"a\": 2}\n')"),
            json!([{"a": 1}, {"a": 2}])
        );
        assert_eq!(
            ev("FN.deserialize_yaml('a: 1\nb: [x]')"),
            json!({"a": 1, "b": ["x"]})
        );
        assert!(ev_err("FN.deserialize_json('{')").starts_with("invalid JSON '{'"));
    }

    #[test]
    fn encoding_and_hashing() {
        assert_eq!(ev("FN.to_base64('hello')"), json!("aGVsbG8="));
        assert_eq!(ev("FN.from_base64('aGVsbG8=')"), json!("hello"));
        assert_eq!(ev("FN.to_base64url('??>')"), json!("Pz8-"));
        assert_eq!(ev("FN.from_base64url('Pz8-')"), json!("??>"));
        assert_eq!(ev("FN.from_base64url('aGk')"), json!("hi"));
        assert!(ev_err("FN.from_base64('!!')").starts_with("invalid base64 '!!'"));
        assert_eq!(
            ev("FN.hash_md5('abc')"),
            json!("900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(
            ev("FN.hash_sha1('abc')"),
            json!("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        assert_eq!(
            ev("FN.hash_sha256('abc')"),
            json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert!(
            ev("FN.hash_sha512('abc')")
                .as_str()
                .unwrap()
                .starts_with("ddaf35a193617aba")
        );
    }

    #[test]
    fn ip_addresses() {
        assert_eq!(ev("FN.check_ip_version('10.0.0.1')"), json!(4));
        assert_eq!(ev("FN.check_ip_version('::1')"), json!(6));
        assert_eq!(
            ev("FN.ipv4_in_subnet('10.1.2.3', '10.0.0.0/8')"),
            json!(true)
        );
        assert_eq!(
            ev("FN.ipv4_in_subnet('11.1.2.3', '10.0.0.0/8')"),
            json!(false)
        );
        assert_eq!(
            ev_err("FN.ipv4_in_subnet('10.1.2.3', '10.0.0.1/8')"),
            "'10.0.0.1/8' has host bits set"
        );
        assert_eq!(
            ev("FN.ipv6_in_subnet('2001:db8::1', '2001:db8::/32')"),
            json!(true)
        );
        assert_eq!(ev("FN.ipv4_is_public('8.8.8.8')"), json!(true));
        assert_eq!(ev("FN.ipv4_is_public('192.168.1.1')"), json!(false));
        assert_eq!(ev("FN.ipv6_is_public('2606:4700::1111')"), json!(true));
        assert_eq!(ev("FN.ipv6_is_public('fe80::1')"), json!(false));
        assert!(
            ev_err("FN.check_ip_version('nope')")
                .contains("does not appear to be an IPv4 or IPv6 address")
        );
    }
}

#[test]
fn backtick_extensions() {
    assert_eq!(ev("TRIGGER.users[*].name.`len`"), json!([5, 3, 5]));
    assert_eq!(ev("TRIGGER.data.arg1.`str()`"), json!("1"));
    assert_eq!(
        ev("TRIGGER.users[0].name.`sub(/(A)l/, \\1L)`"),
        json!("ALice")
    );
    assert_eq!(
        ev("TRIGGER.headers.'content-type'.`split(s, 0, -1)`"),
        json!("j")
    );
    assert!(matches!(
        parse_expression("TRIGGER.x.`upper`"),
        Err(ExprError::Parse { .. })
    ));
}

#[test]
fn descendants_from_a_context_map_root() {
    // `..` directly after a context name searches the context map itself.
    assert_eq!(ev("ACTIONS..valid"), json!(1));
    assert_eq!(
        ev("ACTIONS..result_typename"),
        json!(["dict", "str", "NoneType"])
    );
    assert_eq!(ev("ENV..run_id"), json!("r1"));
    // SECRETS only takes the dotted `SECRETS.name.KEY` form.
    assert!(matches!(
        parse_expression("SECRETS..TOKEN"),
        Err(ExprError::Parse { .. })
    ));
}

mod properties {
    //! Property tests with a small deterministic generator (no extra dependency): the parser
    //! and evaluator never panic on arbitrary input, and integer arithmetic matches Python.

    use super::*;

    /// xorshift64*: deterministic, so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n as u64).unwrap_or(0)
        }
    }

    const PIECES: &[&str] = &[
        "ACTIONS", "TRIGGER", "SECRETS", "VARS", "ENV", "var", "FN", ".", "..", "[", "]", "(", ")",
        "{", "}", ",", ":", "'", "\"", "a", "users", "result", "0", "-1", "1.5", "*", "?", "@",
        "==", "!=", "<", ">=", "+", "-", "/", "%", "||", "&&", "not", "in", "is", "if", "else",
        "for", "->", "int", "str", "bool", "True", "None", " ", "é", "\\", "$", "${{", "}}", "map",
        "split", "add", "&", "=~",
    ];

    fn random_text(rng: &mut Rng) -> String {
        let len = rng.below(14);
        (0..len).map(|_| PIECES[rng.below(PIECES.len())]).collect()
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let c = ctx();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut parsed = 0;
        for _ in 0..30_000 {
            let text = random_text(&mut rng);
            if let Ok(expr) = parse_expression(&text) {
                parsed += 1;
                let _ = eval_parsed(&expr, &c);
            }
            let _ = eval_templated(&Value::String(text.clone()), &c);
            let _ = find_templates(&text);
        }
        assert!(
            parsed > 100,
            "the generator should produce some valid expressions, got {parsed}"
        );
    }

    /// Python's floor modulo on i128.
    fn py_mod_i(a: i128, b: i128) -> i128 {
        ((a % b) + b) % b
    }

    #[test]
    fn integer_arithmetic_matches_python() {
        let c = ExprContext::default();
        let mut rng = Rng(42);
        for _ in 0..3_000 {
            let a = i128::from(rng.next() % 2_000) - 1_000;
            let b = i128::from(rng.next() % 2_000) - 1_000;
            let (op, expected) = match rng.below(4) {
                0 => ("+", a + b),
                1 => ("-", a - b),
                2 => ("*", a * b),
                _ if b != 0 => ("%", py_mod_i(a, b)),
                _ => ("+", a + b),
            };
            // Negative literals go through unary minus, so parenthesize them.
            let text = format!("({a}) {op} ({b})");
            assert_eq!(
                eval_expression(&text, &c).unwrap(),
                json!(expected as i64),
                "{text}"
            );
        }
    }

    #[test]
    fn python_str_of_ints_and_strings_round_trips_through_str_cast() {
        let c = ExprContext::default();
        let mut rng = Rng(7);
        for _ in 0..1_000 {
            let n = i64::try_from(rng.next() >> 2).unwrap_or(0) - (1 << 60);
            assert_eq!(eval_expression(&format!("int(str({n}))"), &c), Ok(json!(n)));
        }
    }
}

#[test]
fn time_functions() {
    assert_eq!(
        ev("FN.to_datetime('2024-01-02T03:04:05Z')"),
        json!("2024-01-02T03:04:05+00:00")
    );
    assert_eq!(
        ev("FN.to_datetime('2024-01-02 03:04:05.250')"),
        json!("2024-01-02T03:04:05.250000")
    );
    assert_eq!(
        ev("FN.to_datetime('2024-01-02')"),
        json!("2024-01-02T00:00:00")
    );
    assert_eq!(ev("FN.to_datetime(0)"), json!("1970-01-01T00:00:00+00:00"));
    assert_eq!(
        ev_err("FN.to_datetime('nope')"),
        "Invalid isoformat string: 'nope'"
    );
    assert_eq!(
        ev("FN.format_datetime('2024-01-02T03:04:05', '%Y/%m/%d %H:%M %A %b')"),
        json!("2024/01/02 03:04 Tuesday Jan")
    );
    assert_eq!(
        ev_err("FN.format_datetime('2024-01-02', '%Q')"),
        "invalid format string '%Q'"
    );
    assert_eq!(
        ev("FN.parse_datetime('02/01/2024 10:30', '%d/%m/%Y %H:%M')"),
        json!("2024-01-02T10:30:00")
    );
    assert_eq!(
        ev("FN.to_timestamp('1970-01-02T00:00:00Z')"),
        json!(86400.0)
    );
    assert_eq!(
        ev("FN.to_timestamp('1970-01-01T00:00:01.5+00:00', 'ms')"),
        json!(1500)
    );
    assert_eq!(
        ev("FN.from_timestamp(1500, 'ms')"),
        json!("1970-01-01T00:00:01.500000")
    );
    assert_eq!(
        ev("FN.datetime(2024, 2, 29, 12)"),
        json!("2024-02-29T12:00:00")
    );
    assert_eq!(
        ev_err("FN.datetime(2023, 2, 29)"),
        "day is out of range for month"
    );
    assert_eq!(ev("FN.get_year('2024-03-04T05:06:07')"), json!(2024));
    assert_eq!(ev("FN.get_hour('2024-03-04T05:06:07')"), json!(5));
    assert_eq!(ev("FN.get_day_of_week('2024-03-04')"), json!(0));
    assert_eq!(
        ev("FN.get_day_of_week('2024-03-04', 'short')"),
        json!("Mon")
    );
    assert_eq!(ev("FN.get_month('2024-03-04', 'full')"), json!("March"));
    assert_eq!(
        ev("FN.hours_between('2024-01-01T00:00:00', '2024-01-01T06:30:00')"),
        json!(6.5)
    );
    assert_eq!(
        ev("FN.days_between('2024-01-03', '2024-01-01')"),
        json!(-2.0)
    );
    assert_eq!(
        ev_err("FN.seconds_between('2024-01-01', '2024-01-01T00:00:00Z')"),
        "can't subtract offset-naive and offset-aware datetimes"
    );
}

#[test]
fn clock_functions_read_the_logical_time() {
    let mut c = ExprContext::default();
    assert_eq!(
        eval_expression("FN.now()", &c)
            .unwrap_err()
            .root_cause()
            .to_string(),
        "needs ENV.workflow.logical_time in the expression context"
    );
    c.env.insert(
        "workflow".into(),
        json!({"logical_time": "2024-05-06T07:08:09.5+02:00"}),
    );
    assert_eq!(
        eval_expression("FN.now()", &c).unwrap(),
        json!("2024-05-06T05:08:09.500000")
    );
    assert_eq!(
        eval_expression("FN.utcnow()", &c).unwrap(),
        json!("2024-05-06T05:08:09.500000+00:00")
    );
    assert_eq!(
        eval_expression("FN.today()", &c).unwrap(),
        json!("2024-05-06")
    );
    assert_eq!(
        eval_expression("FN.get_hour(FN.now())", &c).unwrap(),
        json!(5)
    );
}

mod conformance {
    //! Cases taken from Tracecat's `test_expression_parser` and friends, with their context.

    use super::*;

    fn tracecat_ctx() -> ExprContext {
        let mut c = ExprContext::default();
        c.actions
            .insert("action_test".into(), json!({"bar": 1, "baz": 2}));
        c.actions.insert(
            "users".into(),
            json!([
                {"name": "Alice", "age": 30, "gender": "female", "active": true, "contact": {"email": "alice@example.com"}},
                {"name": "Bob", "age": 40, "gender": "male", "active": false, "contact": {"email": "bob@example.com"}},
                {"name": "Charlie", "age": 50, "gender": "male", "active": true, "contact": {"email": "charlie@example.com"}}
            ]),
        );
        c.actions
            .insert("companies".into(), json!([{"name": [{"value": 1}]}]));
        c.actions.insert("empty".into(), json!([]));
        c.actions.insert("null_value".into(), json!(null));
        c.secrets
            .insert("secret_test".into(), json!({"KEY": "SECRET"}));
        c.env.insert("item".into(), json!("ITEM"));
        c.env.insert("var".into(), json!("VAR"));
        c.trigger = json!({
            "data": {"name": "John", "age": 30},
            "value": "100",
            "list": [1, 2, 3],
            "dict": {"key1": 1},
            "adjectives": ["cool", "awesome", "happy"],
            "hits": {"_source": {"kibana.alert.rule.name": "TEST"}, "_test": "_test_ok", "________test": "________test_ok"},
            "hits2": {"_source": {"data_stream": {"namespace": "_NAMESPACE"}}}
        });
        c.var.insert("x".into(), json!(5));
        c.var.insert("y".into(), json!("100"));
        c
    }

    #[test]
    fn expression_parser_cases() {
        let c = tracecat_ctx();
        let cases: Vec<(&str, Value)> = vec![
            ("ACTIONS.action_test.bar -> str", json!("1")),
            ("str(ACTIONS.action_test.bar)", json!("1")),
            ("       ACTIONS.action_test.baz    ", json!(2)),
            ("   ACTIONS.action_test", json!({"bar": 1, "baz": 2})),
            ("   SECRETS.secret_test.KEY    ", json!("SECRET")),
            ("FN.concat(ENV.item, '5')", json!("ITEM5")),
            ("  FN.is_null(None)   ", json!(true)),
            ("FN.join(['A', 'B', 'C'], '@')", json!("A@B@C")),
            (
                "FN.format('Formatted: {} !', 'yay')",
                json!("Formatted: yay !"),
            ),
            (
                "FN.format.map('Hello, {}! You are {}.', ['Alice', 'Bob', 'Charlie'], TRIGGER.adjectives)",
                json!([
                    "Hello, Alice! You are cool.",
                    "Hello, Bob! You are awesome.",
                    "Hello, Charlie! You are happy."
                ]),
            ),
            (
                "FN.flatten([[1, 2, 3], [4, 5, 6], [7, 8, 9]])",
                json!([1, 2, 3, 4, 5, 6, 7, 8, 9]),
            ),
            (
                "'It contains 1' if FN.contains(1, TRIGGER.list) else 'no'",
                json!("It contains 1"),
            ),
            (
                "True if FN.contains('key2', TRIGGER.dict) else False",
                json!(false),
            ),
            (
                "None if FN.does_not_contain('key1', TRIGGER.dict) else TRIGGER.dict.key1",
                json!(1),
            ),
            (
                "None if TRIGGER.hits2._source.data_stream.namespace == None else TRIGGER.hits2._source.data_stream.namespace",
                json!("_NAMESPACE"),
            ),
            (
                "True if TRIGGER.hits2._source.host.ip else False",
                json!(false),
            ),
            ("float(5.0)", json!(5.0)),
            ("5.0", json!(5.0)),
            ("bool(1)", json!(true)),
            ("ENV.var", json!("VAR")),
            ("TRIGGER.value -> int", json!(100)),
            ("TRIGGER.hits._test", json!("_test_ok")),
            ("TRIGGER.hits.________test", json!("________test_ok")),
            (
                "TRIGGER.hits._source['kibana.alert.rule.name']",
                json!("TEST"),
            ),
            (
                "TRIGGER.hits._source.['kibana.alert.rule.name']",
                json!("TEST"),
            ),
            (
                "TRIGGER.hits._source.[\"kibana.alert.rule.name\"]",
                json!("TEST"),
            ),
            (
                "TRIGGER.hits._source.\"kibana.alert.rule.name\"",
                json!("TEST"),
            ),
            (
                "TRIGGER.hits.'_source'.['kibana.alert.rule.name']",
                json!("TEST"),
            ),
            (
                "TRIGGER.hits.['_source']['kibana.alert.rule.name']",
                json!("TEST"),
            ),
            ("var.y -> int", json!(100)),
            (
                "('a' if var.y != '100' else ('b' if var.y == '200' else 'c'))",
                json!("c"),
            ),
            ("FN.sum([1,2,3,4,5]) + 10", json!(25)),
            ("'a' + 'b' == 'ab'", json!(true)),
            (
                "{ 'key1': 1, 'key2': 'value' }",
                json!({"key1": 1, "key2": "value"}),
            ),
            ("True || (1 != 1)", json!(true)),
            (
                "ACTIONS.users[?active == true].name",
                json!(["Alice", "Charlie"]),
            ),
            ("ACTIONS.users[?gender == 'female'].name", json!("Alice")),
            (
                "ACTIONS.users[?age >= 30 & age <= 40].name",
                json!(["Alice", "Bob"]),
            ),
            ("ACTIONS.users[?age >= 40].name", json!(["Bob", "Charlie"])),
            ("ACTIONS.empty[0].index", json!(null)),
            ("ACTIONS.null_value.result.result", json!(null)),
            ("ACTIONS.users[*].name", json!(["Alice", "Bob", "Charlie"])),
            ("ACTIONS.companies[*].name", json!([[{"value": 1}]])),
            ("ACTIONS.companies[*].name[*].value", json!([1])),
            (
                "ACTIONS.users[?gender == 'male'].contact.email.`sub(/example.com/, example.net)`",
                json!(["bob@example.net", "charlie@example.net"]),
            ),
            ("'192.168.1.1' in ['192.168.1.1', '10.0.0.1']", json!(true)),
            ("'8.8.8.8' not in ['192.168.1.1', '10.0.0.1']", json!(true)),
            ("None is not 'not_none'", json!(true)),
            ("'running' is None", json!(false)),
            ("40 <= 30", json!(false)),
        ];
        for (expr, expected) in cases {
            assert_eq!(
                eval_expression(expr, &c).unwrap_or_else(|e| panic!("{expr}: {e}")),
                expected,
                "{expr}"
            );
        }
        assert!(matches!(
            parse_expression("ACTIONS.action_test.bar -> str -> int"),
            Err(ExprError::Parse { .. })
        ));
    }

    #[test]
    fn templated_object_cases() {
        let mut c = ExprContext::default();
        c.actions.insert(
            "webhook".into(),
            json!({"result": 42, "url": "https://example.com", "count": 3}),
        );
        c.secrets.insert("my_secret".into(), json!("@@@"));
        c.var.insert("x".into(), json!(5));
        c.var.insert("y".into(), json!("100"));
        let templates = json!([
            {"test": {
                "data": "INLINE: ${{ ACTIONS.webhook.result -> str }}",
                "url": "${{ ACTIONS.webhook.url}}",
                "number": "${{ ACTIONS.webhook.result -> int }}",
                "multi": " ${{ ACTIONS.webhook.result }} ${{ ACTIONS.webhook.count }}  "
            }},
            "Inline substitution ${{ ACTIONS.webhook.result}} like this",
            "            Again, inline substitution ${{ SECRETS.my_secret.x }} like this   ",
            " ignore local vars ${{ var.y }}",
            "${{ var.x }}",
            "${{ FN.add(5, var.x) }}",
            "${{ ACTIONS.webhook.result -> int }} ${{ ACTIONS.webhook.count }}"
        ]);
        assert_eq!(
            eval_templated(&templates, &c).unwrap(),
            json!([
                {"test": {"data": "INLINE: 42", "url": "https://example.com", "number": 42, "multi": " 42 3  "}},
                "Inline substitution 42 like this",
                "            Again, inline substitution None like this   ",
                " ignore local vars 100",
                5,
                10,
                "42 3"
            ])
        );
    }
}
