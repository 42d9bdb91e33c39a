//! Property tests of what parses untrusted text: the expression language and the workflow
//! loader. They run in the normal suite with a fixed number of cases (and a fixed seed per
//! failure, kept by proptest under `proptest-regressions/` when one is found).

use proptest::prelude::*;
use serde_json::{Value, json};

use ferrocat_dsl::Workflow;
use ferrocat_dsl::expr::{self, ExprContext};

/// An integer expression and, beside it, what it must evaluate to.
#[derive(Debug, Clone)]
enum Arith {
    Num(i64),
    Add(Box<Arith>, Box<Arith>),
    Sub(Box<Arith>, Box<Arith>),
    Mul(Box<Arith>, Box<Arith>),
    Neg(Box<Arith>),
    /// `a if c else b` with a comparison as the condition.
    Pick(Box<Arith>, Box<Arith>, Box<Arith>),
}

fn arith() -> impl Strategy<Value = Arith> {
    let leaf = (-1000i64..1000).prop_map(Arith::Num);
    leaf.prop_recursive(6, 48, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Arith::Add(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Arith::Sub(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Arith::Mul(Box::new(a), Box::new(b))),
            inner.clone().prop_map(|a| Arith::Neg(Box::new(a))),
            (inner.clone(), inner.clone(), inner).prop_map(|(a, c, b)| Arith::Pick(Box::new(a), Box::new(c), Box::new(b))),
        ]
    })
}

fn render(a: &Arith) -> String {
    match a {
        Arith::Num(n) => format!("({n})"),
        Arith::Add(a, b) => format!("({} + {})", render(a), render(b)),
        Arith::Sub(a, b) => format!("({} - {})", render(a), render(b)),
        Arith::Mul(a, b) => format!("({} * {})", render(a), render(b)),
        Arith::Neg(a) => format!("-{}", render(a)),
        Arith::Pick(a, c, b) => format!("({} if {} > 0 else {})", render(a), render(c), render(b)),
    }
}

/// The value in 64-bit integers, `None` when a step overflows (the language refuses that).
fn value(a: &Arith) -> Option<i64> {
    match a {
        Arith::Num(n) => Some(*n),
        Arith::Add(a, b) => value(a)?.checked_add(value(b)?),
        Arith::Sub(a, b) => value(a)?.checked_sub(value(b)?),
        Arith::Mul(a, b) => value(a)?.checked_mul(value(b)?),
        Arith::Neg(a) => value(a)?.checked_neg(),
        Arith::Pick(a, c, b) => {
            if value(c)? > 0 {
                value(a)
            } else {
                value(b)
            }
        }
    }
}

/// Pieces of the grammar, glued at random: most such texts do not parse, some do.
fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "(", ")", "[", "]", "{", "}", ",", ":", ".", " ", "+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||", "not ",
        " in ", " is ", " if ", " else ", "->", "1", "2.5", "'a'", "\"b\"", "True", "None", "TRIGGER", "ACTIONS.a.result",
        "FN.", "length", "concat", "range", "to_base64", "[?(@.x == 1)]", "[*]", "..", "@", "$", "var.x", "for ", "int",
    ])
}

fn context() -> ExprContext {
    ExprContext {
        trigger: json!({"x": [1, 2, {"y": "z"}], "s": "text"}),
        actions: serde_json::from_value(json!({"a": {"result": {"x": 1, "list": [1, 2, 3]}}})).unwrap(),
        ..ExprContext::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arithmetic_evaluates_as_integers_do(a in arith()) {
        let text = render(&a);
        let got = expr::eval_expression(&text, &ExprContext::default());
        match value(&a) {
            Some(v) => prop_assert_eq!(got.unwrap(), json!(v), "{}", text),
            None => prop_assert!(got.is_err(), "{} overflowed yet gave {:?}", text, got),
        }
    }

    #[test]
    fn any_text_parses_or_fails_cleanly(text in "\\PC{0,300}") {
        let _ = expr::parse_expression(&text);
        let _ = expr::eval_templated(&Value::String(format!("${{{{ {text} }}}} and ${{{{{text}}}}}")), &context());
    }

    #[test]
    fn grammar_soup_parses_and_evaluates_without_panicking(tokens in prop::collection::vec(token(), 0..120)) {
        let text = tokens.concat();
        if let Ok(parsed) = expr::parse_expression(&text) {
            let _ = expr::eval_parsed(&parsed, &context());
        }
    }

    #[test]
    fn nesting_past_the_limit_is_refused_whatever_opens_it(depth in 25usize..3000, open in prop::sample::select(vec!["(", "[", "FN.to_base64(", "{'k': ", "not (", "-("])) {
        let close = match open { "[" => "]", "{'k': " => "}", _ => ")" };
        let text = format!("{}1{}", open.repeat(depth), close.repeat(depth));
        let error = expr::parse_expression(&text).unwrap_err().to_string();
        prop_assert!(error.contains("nests deeper than 24") || error.contains("operators") || error.contains("bytes long"), "{}", error);
    }

    #[test]
    fn any_document_loads_or_fails_cleanly(text in "\\PC{0,400}") {
        if let Ok(workflow) = Workflow::parse(&text) {
            let _ = workflow.validate();
        }
    }

    /// Random acyclic workflows: each action depends on some earlier ones. They load, validate,
    /// and survive a YAML round trip unchanged.
    #[test]
    fn generated_dags_validate_and_round_trip(edges in prop::collection::vec(prop::collection::vec(any::<prop::sample::Index>(), 0..4), 1..30)) {
        let mut yaml = String::from("title: Generated\ndescription: a random DAG\nentrypoint: {ref: a0}\nactions:\n");
        for (i, deps) in edges.iter().enumerate() {
            yaml.push_str(&format!("  - ref: a{i}\n    action: core.transform.reshape\n    args: {{value: \"${{{{ TRIGGER.x }}}}\"}}\n"));
            if i > 0 {
                let mut parents: Vec<usize> = deps.iter().map(|d| d.index(i)).collect();
                parents.sort_unstable();
                parents.dedup();
                if parents.is_empty() {
                    parents.push(0);
                }
                let list: Vec<String> = parents.iter().map(|p| format!("a{p}")).collect();
                yaml.push_str(&format!("    depends_on: [{}]\n", list.join(", ")));
            }
        }
        let workflow = Workflow::parse(&yaml).unwrap();
        prop_assert!(workflow.validate().is_ok(), "{:?}", workflow.validate());
        let again = Workflow::parse(&serde_yaml::to_string(&workflow).unwrap()).unwrap();
        prop_assert_eq!(serde_json::to_value(&again).unwrap(), serde_json::to_value(&workflow).unwrap());
        // A dangling dependency is named.
        let broken = yaml.replacen("depends_on: [a0", "depends_on: [ghost", 1);
        if broken != yaml {
            let issues = Workflow::parse(&broken).unwrap().validate().unwrap_err();
            prop_assert!(issues.iter().any(|i| i.to_string().contains("ghost")), "{:?}", issues);
        }
    }
}
