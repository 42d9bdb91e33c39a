//! Tracecat's expression language: `${{ … }}` templates, the expression grammar, contexts with
//! jsonpath access, the `FN.*` library, and Python value semantics over `serde_json::Value`.
//!
//! Everything here is pure and deterministic (no I/O, no clock) because it runs inside Temporal
//! workflow code that must replay identically: the clock functions read the run's logical time
//! from the context. The exceptions are `FN.uuid4` (random, as in Tracecat) and `FN.wall_clock`
//! evaluated with no logical time in the context, i.e. outside any run.

mod ast;
mod datetime;
mod eval;
mod functions;
mod ops;
mod parser;
mod path;
mod references;
mod template;
mod value;

use serde_json::{Map, Value};

pub use ast::{
    BinaryOp, CastType, ContextRoot, Expr, Filter, FilterCondition, FilterOp, FilterOperand,
    JsonPath, PathSegment, Transform,
};
pub use eval::{IteratorValues, eval_iterator};
pub use functions::function_names;
pub use references::{
    Reference, References, referenced_actions, referenced_contexts, references, walk,
};
pub use template::{eval_template_str, eval_templated, find_templates, standalone_expression};
pub use value::{
    cast_bool, format_float, py_cmp, py_contains, py_eq, python_repr, python_str, truthy, typename,
};

/// What expression parsing and evaluation can fail with. Messages copy Tracecat's texts where
/// workflows and tests depend on them (e.g. "Cannot divide by zero").
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExprError {
    /// The expression does not match the grammar.
    #[error("Error parsing expression `{expr}`\n\nFailed to parse expression: {detail}")]
    Parse {
        /// The expression text.
        expr: String,
        /// What was expected and where.
        detail: String,
    },
    /// Evaluating the expression failed; `reason` is the underlying error.
    #[error("Error evaluating expression `{expr}`\n\nReason: {reason}")]
    Eval {
        /// The expression text.
        expr: String,
        /// The underlying error.
        reason: Box<ExprError>,
    },
    /// `FN.<name>` is not registered.
    #[error("Unknown function '{name}'")]
    UnknownFunction {
        /// The function name.
        name: String,
    },
    /// A function call failed.
    #[error("FN.{name}: {reason}")]
    Function {
        /// The function name.
        name: String,
        /// The underlying error.
        reason: Box<ExprError>,
    },
    /// `/` or `FN.div` with a zero divisor.
    #[error("Cannot divide by zero")]
    DivisionByZero,
    /// `%` or `FN.mod` with a zero divisor.
    #[error("Cannot calculate modulo with zero")]
    ModuloByZero,
    /// Sequence index outside the sequence.
    #[error("Sequence index {index} out of range")]
    IndexOutOfRange {
        /// The index as written.
        index: i128,
    },
    /// A sequence indexed by a non-integer.
    #[error("Sequence indices must be integers")]
    IndexNotInteger,
    /// A dict indexed by a missing key.
    #[error("Key '{key}' not found for mapping access")]
    KeyNotFound {
        /// The missing key.
        key: String,
    },
    /// Indexing a value that has no items.
    #[error("Object of type '{typename}' is not indexable")]
    NotIndexable {
        /// Python type name of the value.
        typename: &'static str,
    },
    /// An operation applied to values of the wrong type (Python's TypeError text).
    #[error("{msg}")]
    Type {
        /// Python-style message.
        msg: String,
    },
    /// A value of the right type but unusable content (Python's ValueError text).
    #[error("{msg}")]
    Value {
        /// Python-style message.
        msg: String,
    },
    /// An integer result beyond 64 bits (JSON numbers are 64-bit here).
    #[error("integer {value} does not fit in 64 bits")]
    Overflow {
        /// The value or operation that overflowed.
        value: String,
    },
    /// A float result that is NaN or infinite (JSON cannot hold it).
    #[error("float result {value} is not a finite number")]
    NotFinite {
        /// The value as Python prints it.
        value: String,
    },
    /// Templated dict keys that resolve to the same string.
    #[error("Expression resolution produced a duplicate dictionary key '{key}'")]
    DuplicateKey {
        /// The duplicated key.
        key: String,
    },
    /// `for var.x in …` evaluated where a value is expected.
    #[error("an iterator expression (for var.x in ...) is only valid in for_each")]
    IteratorOutsideForEach,
    /// A `for_each` entry that is not an iterator expression.
    #[error("expected an iterator expression like `${{{{ for var.x in ... }}}}`")]
    NotAnIterator,
    /// A malformed `for_each` value.
    #[error("invalid for_each {input}: {msg}")]
    ForEach {
        /// The offending input, as Python prints it.
        input: String,
        /// What is wrong with it.
        msg: String,
    },
}

impl ExprError {
    /// The innermost error, below any `Eval` / `Function` wrappers.
    pub fn root_cause(&self) -> &ExprError {
        match self {
            ExprError::Eval { reason, .. } | ExprError::Function { reason, .. } => {
                reason.root_cause()
            }
            other => other,
        }
    }
}

/// The values expressions can see.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExprContext {
    /// `ACTIONS`: ref → `{"result", "result_typename", "error", "error_typename"}`.
    pub actions: Map<String, Value>,
    /// `TRIGGER`: the trigger payload (`null` when there is none).
    pub trigger: Value,
    /// `SECRETS`: name → `{KEY: value}`.
    pub secrets: Map<String, Value>,
    /// `VARS`: name → `{key: value}`.
    pub vars: Map<String, Value>,
    /// `ENV`: `{"workflow": {...}, "environment": ..., "variables": ...}`.
    pub env: Map<String, Value>,
    /// `var`: the current `for_each` bindings.
    pub var: Map<String, Value>,
    /// `inputs`: a template action's arguments (empty in workflows).
    pub inputs: Map<String, Value>,
    /// `steps`: a template action's earlier steps, ref → `{"result": ...}` (empty in workflows).
    pub steps: Map<String, Value>,
}

/// Parses the text inside `${{ … }}`.
pub fn parse_expression(expr: &str) -> Result<Expr, ExprError> {
    parser::parse(expr)
}

/// Parses and evaluates the text inside `${{ … }}`. Evaluation errors are wrapped in
/// [`ExprError::Eval`] naming the expression.
pub fn eval_expression(expr: &str, ctx: &ExprContext) -> Result<Value, ExprError> {
    let parsed = parse_expression(expr)?;
    eval::eval(&parsed, ctx).map_err(|reason| ExprError::Eval {
        expr: expr.to_owned(),
        reason: Box::new(reason),
    })
}

/// Evaluates an already parsed expression (no `Eval` wrapper is added).
pub fn eval_parsed(expr: &Expr, ctx: &ExprContext) -> Result<Value, ExprError> {
    eval::eval(expr, ctx)
}

/// Evaluates an action's `for_each` (one `${{ for var.x in … }}` string or a list of them) into
/// the `var` bindings of each iteration: several iterators are zipped to the shortest one, and
/// each binding map starts from `ctx.var` so nested loops keep outer variables.
pub fn eval_for_each(
    for_each: &Value,
    ctx: &ExprContext,
) -> Result<Vec<Map<String, Value>>, ExprError> {
    let specs: Vec<&str> = match for_each {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str().ok_or_else(|| ExprError::ForEach {
                    input: python_repr(v),
                    msg: "each entry must be a string".to_owned(),
                })
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(ExprError::ForEach {
                input: python_repr(other),
                msg: "expected a string or a list of strings".to_owned(),
            });
        }
    };
    let mut iterators = Vec::with_capacity(specs.len());
    for spec in specs {
        let expr_text = standalone_expression(spec).ok_or_else(|| ExprError::ForEach {
            input: python_repr(&Value::String(spec.to_owned())),
            msg: "must be exactly one ${{ for var.x in ... }} template".to_owned(),
        })?;
        let parsed = parse_expression(expr_text)?;
        let it = eval_iterator(&parsed, ctx).map_err(|reason| match reason {
            ExprError::NotAnIterator => reason,
            other => ExprError::Eval {
                expr: expr_text.to_owned(),
                reason: Box::new(other),
            },
        })?;
        iterators.push(it);
    }
    let len = iterators.iter().map(|it| it.items.len()).min().unwrap_or(0);
    // Each iteration becomes an activity with its own copy of the context.
    let limit = crate::limits::get().max_for_each_items;
    if len > limit {
        return Err(ExprError::ForEach {
            input: format!("of {len} items"),
            msg: format!(
                "a for_each runs at most {limit} iterations (FERROCAT_MAX_FOR_EACH_ITEMS)"
            ),
        });
    }
    Ok((0..len)
        .map(|i| {
            let mut var = ctx.var.clone();
            for it in &iterators {
                eval::assign_var(&mut var, &it.var_path, it.items[i].clone());
            }
            var
        })
        .collect())
}

#[cfg(test)]
mod tests;
