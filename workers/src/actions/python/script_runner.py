"""Runs a user script inside the ferrocat sandbox (core.script.run_python).

Reads /work/input.json ({"script", "inputs"}), deletes it, calls `main` (or the only top-level
function) with the inputs as keyword arguments (parameters without a value get None) and
writes {"ok": true, "result": ...} or {"ok": false, "error": "..."} to /work/.result.json.
"""
import ast
import asyncio
import inspect
import json
import os
import sys

RESULT = "/work/.result.json"


def finish(payload):
    with open(RESULT, "w", encoding="utf-8") as out:
        out.write(payload)


def fail(message):
    finish(json.dumps({"ok": False, "error": message}))
    sys.exit(0)


def jsonable(value):
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def main():
    with open("/work/input.json", encoding="utf-8") as f:
        job = json.load(f)
    os.remove("/work/input.json")
    source = job["script"]
    inputs = job.get("inputs") or {}

    try:
        tree = ast.parse(source, filename="<script>")
    except SyntaxError as e:
        fail(f"SyntaxError: {e.msg} (line {e.lineno})")
    functions = [
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    if not functions:
        fail("PythonScriptValidationError: Script must contain at least one function definition.")
    if len(functions) > 1 and "main" not in functions:
        fail("PythonScriptValidationError: When script contains multiple functions, one must be named 'main'.")
    target = "main" if "main" in functions else functions[0]

    try:
        namespace = {"__name__": "__main__"}
        exec(compile(tree, "<script>", "exec"), namespace)
        function = namespace[target]
        kwargs = dict(inputs)
        for name, param in inspect.signature(function).parameters.items():
            if (
                param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
                and param.default is param.empty
                and name not in kwargs
            ):
                kwargs[name] = None
        result = function(**kwargs)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
    except BaseException as e:  # the user's error, reported as Python prints it
        fail(f"{type(e).__name__}: {e}")

    try:
        encoded = json.dumps({"ok": True, "result": result}, default=jsonable, allow_nan=False)
    except (TypeError, ValueError) as e:
        fail(f"PythonScriptOutputError: the return value is not JSON serialisable: {e}")
    finish(encoded)


main()
