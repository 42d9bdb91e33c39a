"""Evaluates a `python_lambda` of core.transform.* inside the ferrocat sandbox.

Reads /work/input.json ({"lambda", "mode": "apply"|"map"|"filter", "value" or "items"}),
checks the lambda source against an allow-list of expression nodes, evaluates it with a small
set of builtins and writes {"ok": true, "result": ...} or {"ok": false, "error": "..."} to
/work/.result.json. The sandbox is the real boundary; the checks keep lambdas to expressions
and give Tracecat's rejection messages.
"""
import ast
import json
import sys

RESULT = "/work/.result.json"
MAX_LENGTH = 1000

ALLOWED_NODES = (
    ast.Expression, ast.Lambda, ast.arguments, ast.arg, ast.Constant, ast.List, ast.Tuple,
    ast.Dict, ast.Set, ast.JoinedStr, ast.FormattedValue, ast.Name, ast.Attribute,
    ast.Subscript, ast.Slice, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp,
    ast.ListComp, ast.DictComp, ast.SetComp, ast.GeneratorExp, ast.comprehension, ast.Call,
    ast.keyword, ast.Load, ast.Store, ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
)
FORBIDDEN_NAMES = {
    "eval", "exec", "compile", "open", "input", "getattr", "setattr", "delattr", "hasattr",
    "globals", "locals", "vars", "dir", "type", "object", "breakpoint", "exit", "quit",
    "memoryview", "bytearray", "help", "os", "sys", "subprocess", "socket", "importlib",
}


def jsonpath(path, operand):
    """A small `$.a.b[0]` resolver: one match or None."""
    current = operand
    text = path[1:] if path.startswith("$") else "." + path
    i = 0
    while i < len(text) and current is not None:
        if text[i] == ".":
            j = i + 1
            while j < len(text) and text[j] not in ".[":
                j += 1
            key = text[i + 1:j]
            current = current.get(key) if isinstance(current, dict) else None
            i = j
        elif text[i] == "[":
            j = text.index("]", i)
            index = text[i + 1:j].strip("'\"")
            if isinstance(current, list):
                try:
                    current = current[int(index)]
                except (ValueError, IndexError):
                    current = None
            elif isinstance(current, dict):
                current = current.get(index)
            else:
                current = None
            i = j + 1
        else:
            raise ValueError(f"Invalid jsonpath {path!r}")
    return current


BUILTINS = {
    "abs": abs, "min": min, "max": max, "sum": sum, "round": round, "len": len, "int": int,
    "float": float, "str": str, "bool": bool, "list": list, "dict": dict, "tuple": tuple,
    "set": set, "all": all, "any": any, "sorted": sorted, "reversed": reversed,
    "enumerate": enumerate, "zip": zip, "range": range, "isinstance": isinstance,
}


class Rejected(Exception):
    pass


def check(node):
    if not isinstance(node, ALLOWED_NODES):
        raise Rejected(
            f"Node type {type(node).__name__} is not allowed in expressions. "
            "Only safe, simple expressions are permitted."
        )
    if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        raise Rejected(f"Access to private attribute '{node.attr}' is not allowed")
    if isinstance(node, ast.Name) and (node.id in FORBIDDEN_NAMES or node.id.startswith("_")):
        raise Rejected(f"Accessing restricted symbol '{node.id}' is not allowed")
    for child in ast.iter_child_nodes(node):
        check(child)


def build(source):
    if len(source) > MAX_LENGTH:
        raise Rejected(f"Expression too long (max {MAX_LENGTH} characters)")
    if "__" in source:
        raise Rejected("Expression contains dangerous pattern: __")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as e:
        raise Rejected(f"Invalid syntax in expression: {e.msg}") from None
    if not isinstance(tree.body, ast.Lambda):
        raise Rejected("Expression must be a lambda function")
    check(tree)
    code = compile(tree, "<lambda>", "eval")
    return eval(code, {"__builtins__": BUILTINS, "jsonpath": jsonpath}, {})


def jsonable(value):
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"Lambda returned unsafe type: {type(value).__name__}")


def finish(payload):
    with open(RESULT, "w", encoding="utf-8") as out:
        out.write(payload)


def main():
    with open("/work/input.json", encoding="utf-8") as f:
        job = json.load(f)
    try:
        fn = build(job["lambda"])
    except Rejected as e:
        finish(json.dumps({"ok": False, "error": f"ValueError: {e}"}))
        return
    sys.setrecursionlimit(500)
    try:
        mode = job["mode"]
        if mode == "apply":
            result = fn(job["value"])
        elif mode == "map":
            result = [fn(item) for item in job["items"]]
        else:
            result = [bool(fn(item)) for item in job["items"]]
        encoded = json.dumps({"ok": True, "result": result}, default=jsonable, allow_nan=False)
    except RecursionError:
        encoded = json.dumps({"ok": False, "error": "ValueError: Expression exceeded maximum recursion depth"})
    except BaseException as e:
        encoded = json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"})
    finish(encoded)


main()
