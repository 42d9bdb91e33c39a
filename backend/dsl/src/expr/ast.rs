//! The syntax tree of a parsed expression (the text inside `${{ … }}`), including the jsonpath
//! that follows a context name such as `ACTIONS` or `TRIGGER`.

use serde_json::Value;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `"text"`, `'text'`, `42`, `1.5`, `True`, `False`, `None`.
    Literal(Value),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `{"k": v}`; keys are string literals.
    Dict(Vec<(String, Expr)>),
    /// A context with its path, e.g. `ACTIONS.a.result[0]`.
    Context {
        /// Which context the path starts in.
        root: ContextRoot,
        /// The path after the context name (may be empty only for `TRIGGER`).
        path: JsonPath,
    },
    /// `FN.name(args)` or, with `map`, `FN.name.map(args)`.
    Call {
        /// Registered function name.
        name: String,
        /// Whether the `.map` broadcasting transform applies.
        map: bool,
        /// Positional arguments.
        args: Vec<Expr>,
    },
    /// `int(x)`, `float(x)`, `str(x)`, `bool(x)`.
    Cast {
        /// Target type.
        ty: CastType,
        /// Operand.
        expr: Box<Expr>,
    },
    /// `target[index]` on a non-context value (Python indexing).
    Index {
        /// The indexed value.
        target: Box<Expr>,
        /// The index expression.
        index: Box<Expr>,
    },
    /// Unary `-x` / `+x`.
    Unary {
        /// True for `-`.
        negate: bool,
        /// Operand.
        expr: Box<Expr>,
    },
    /// `not x`.
    Not(Box<Expr>),
    /// A binary operator.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `then if cond else otherwise`; only the chosen branch is evaluated.
    Ternary {
        /// Value when the condition is truthy.
        then: Box<Expr>,
        /// The condition.
        cond: Box<Expr>,
        /// Value when the condition is falsy.
        otherwise: Box<Expr>,
    },
    /// `expr -> type`, only at the root.
    TrailingCast {
        /// The expression to cast.
        expr: Box<Expr>,
        /// The target type.
        ty: CastType,
    },
    /// `for var.x.y in collection`, only at the root and only in `for_each`.
    Iterator {
        /// The key path assigned under `var` (`["x", "y"]` for `var.x.y`).
        var_path: Vec<String>,
        /// The collection iterated over.
        collection: Box<Expr>,
    },
}

/// The context a path starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextRoot {
    /// `ACTIONS`: results of earlier actions.
    Actions,
    /// `TRIGGER`: the trigger payload.
    Trigger,
    /// `SECRETS`: secrets, `SECRETS.name.KEY`.
    Secrets,
    /// `VARS`: workspace variables, `VARS.name.key`.
    Vars,
    /// `ENV`: run environment (`ENV.workflow.*`, `ENV.environment`, …).
    Env,
    /// `var`: the current `for_each` item(s).
    Var,
    /// `inputs`: the arguments of a YAML template action (not valid in workflows).
    Inputs,
    /// `steps`: earlier steps of a YAML template action (not valid in workflows).
    Steps,
}

impl ContextRoot {
    /// The name written in expressions.
    pub fn name(self) -> &'static str {
        match self {
            ContextRoot::Actions => "ACTIONS",
            ContextRoot::Trigger => "TRIGGER",
            ContextRoot::Secrets => "SECRETS",
            ContextRoot::Vars => "VARS",
            ContextRoot::Env => "ENV",
            ContextRoot::Var => "var",
            ContextRoot::Inputs => "inputs",
            ContextRoot::Steps => "steps",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<ContextRoot> {
        Some(match name {
            "ACTIONS" => ContextRoot::Actions,
            "TRIGGER" => ContextRoot::Trigger,
            "SECRETS" => ContextRoot::Secrets,
            "VARS" => ContextRoot::Vars,
            "ENV" => ContextRoot::Env,
            "var" => ContextRoot::Var,
            "inputs" => ContextRoot::Inputs,
            "steps" => ContextRoot::Steps,
            _ => return None,
        })
    }
}

/// A cast type: `int`, `float`, `str` or `bool`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CastType {
    /// Python `int()`.
    Int,
    /// Python `float()`.
    Float,
    /// Python `str()`.
    Str,
    /// Tracecat's `bool()` (strings: only "true"/"1" are true).
    Bool,
}

impl CastType {
    pub(crate) fn from_name(name: &str) -> Option<CastType> {
        Some(match name {
            "int" => CastType::Int,
            "float" => CastType::Float,
            "str" => CastType::Str,
            "bool" => CastType::Bool,
            _ => return None,
        })
    }
}

/// Binary operators, see the precedence table in the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `||`: returns the left operand if truthy, else the right (both evaluated).
    Or,
    /// `&&`: returns the left operand if falsy, else the right (both evaluated).
    And,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `in`.
    In,
    /// `not in`.
    NotIn,
    /// `is`.
    Is,
    /// `is not`.
    IsNot,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/` (true division).
    Div,
    /// `%`.
    Mod,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "not in",
            BinaryOp::Is => "is",
            BinaryOp::IsNot => "is not",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
        }
    }
}

/// A jsonpath following a context name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JsonPath {
    /// The segments in order.
    pub segments: Vec<PathSegment>,
    /// Tracecat's rule: a path written with `[*]`, `[?(` or `[?@` always returns a list.
    pub always_list: bool,
}

/// One jsonpath step.
#[derive(Debug, Clone, PartialEq)]
pub enum PathSegment {
    /// `.name`, `.'k'`, `."k"`, `['k']`.
    Key(String),
    /// `[0]`, `[-1]`.
    Index(i64),
    /// `[*]` or `.*`.
    Wildcard,
    /// `[start:end]`.
    Slice(Option<i64>, Option<i64>),
    /// `..name` (or `..*`): every descendant (and the node itself) with that key.
    Descendant(String),
    /// `[?(…)]` / `[?…]`.
    Filter(Filter),
    /// A jsonpath-ng extension in backticks: ``.`sub(/re/, repl)` ``, ``.`len` ``, ``.`str()` ``,
    /// ``.`split(sep, index, maxsplit)` ``.
    Transform(Transform),
}

/// A backtick jsonpath extension applied to each matched value.
#[derive(Debug, Clone, PartialEq)]
pub enum Transform {
    /// Regex substitution on strings; the replacement uses `$1`/`${name}` group syntax
    /// (Python's `\1` is converted when parsing).
    Sub {
        /// The pattern.
        pattern: String,
        /// The replacement.
        replacement: String,
    },
    /// `len(value)` for strings, lists and dicts.
    Len,
    /// Python `str(value)`.
    Str,
    /// `value.split(sep, maxsplit)[index]` on strings.
    Split {
        /// Separator.
        sep: String,
        /// Which part to keep.
        index: i64,
        /// Python's maxsplit (-1 for no limit).
        maxsplit: i64,
    },
}

/// A filter: every condition must hold (`&`).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The conditions joined by `&`.
    pub conditions: Vec<FilterCondition>,
}

/// `operand [op operand]`; without an operator the left operand must exist.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterCondition {
    /// Left operand.
    pub left: FilterOperand,
    /// Operator and right operand, if any.
    pub compare: Option<(FilterOp, FilterOperand)>,
}

/// A filter operand.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterOperand {
    /// `@.a.b` or bare `a.b`, relative to the current item.
    Path(Vec<PathSegment>),
    /// A literal number, string, boolean or null.
    Literal(Value),
}

/// Filter comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    /// `==` (or `=`).
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `=~`: the left string matches the right regex (searched, not anchored).
    Regex,
}
