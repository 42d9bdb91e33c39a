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


def relay(source, target):
    """Copies one direction of a relayed connection until it ends."""
    import socket

    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def start_egress_relay(socket_path):
    """The sandbox has only loopback: a local proxy port whose connections are relayed to the
    executor's egress proxy (a Unix socket), which checks every destination. The proxy
    variables point every common HTTP client at it."""
    import socket
    import threading

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(64)

    def serve():
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(socket_path)
            except OSError:
                client.close()
                upstream.close()
                continue
            threading.Thread(target=relay, args=(client, upstream), daemon=True).start()
            threading.Thread(target=relay, args=(upstream, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    proxy = "http://127.0.0.1:%d" % server.getsockname()[1]
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        os.environ[key] = proxy
    for key in ("NO_PROXY", "no_proxy"):
        os.environ.pop(key, None)


def main():
    with open("/work/input.json", encoding="utf-8") as f:
        job = json.load(f)
    os.remove("/work/input.json")
    if job.get("egress_socket"):
        start_egress_relay(job["egress_socket"])
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
