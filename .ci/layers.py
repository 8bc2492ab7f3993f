#!/usr/bin/env python3
"""Fails when a module of src/ imports a layer above its own, or two modules import each
other (directly or around a circle). The layers are docs/development.md's (DESIGN.md §1):

    5 front ends   cli, tui
    4 application  app, sandbox   (sandbox: base and adapters only)
    3 domain       inventory, audit, playbook
    2 adapters     aws, signin, datachannel, shell
    1 base         paths, files, ids, text, config

An import is any `crate::<module>` path in a file under src/<module>/ (tests included:
fixtures must not cross layers either). Run from the repository root; exit 1 on a finding.
"""

import pathlib
import re
import sys

LAYERS = {
    "paths": 1, "files": 1, "ids": 1, "text": 1, "config": 1,
    "aws": 2, "signin": 2, "datachannel": 2, "shell": 2,
    "inventory": 3, "audit": 3, "playbook": 3,
    "app": 4, "sandbox": 4,
    "cli": 5, "tui": 5,
}
# Re-exports at the crate root, and the module they come from.
ROOT_ITEMS = {"Error": "app", "ExitCode": "app"}
# The sandbox stands beside the application layer and uses only these.
SANDBOX_MAY_USE = {1, 2}

PATH = re.compile(r"\bcrate::(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)", re.S)


def imported(text):
    """(module, line) for each `crate::…` reference in `text`."""
    for match in PATH.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        target = match.group(1)
        names = re.findall(r"(?:^|[{,\s])([A-Za-z_][A-Za-z0-9_]*)", target) if target.startswith("{") else [target]
        for name in names:
            yield ROOT_ITEMS.get(name, name), line


def main():
    src = pathlib.Path("src")
    problems = []
    edges = {}
    for path in sorted(src.rglob("*.rs")):
        parts = path.relative_to(src).parts
        if len(parts) == 1 and parts[0] in ("lib.rs", "main.rs"):
            continue
        module = parts[0].removesuffix(".rs")
        if module not in LAYERS:
            problems.append(f"{path}: module `{module}` has no layer; add it to .ci/layers.py and docs/development.md")
            continue
        # Comments may name higher layers (docs); strip line comments before scanning.
        text = re.sub(r"//[^\n]*", "", path.read_text())
        for target, line in imported(text):
            if target == module or target not in LAYERS:
                continue
            edges.setdefault(module, {}).setdefault(target, f"{path}:{line}")
            mine, theirs = LAYERS[module], LAYERS[target]
            if theirs > mine:
                problems.append(f"{path}:{line}: `{module}` (layer {mine}) imports `{target}` (layer {theirs}), a layer above")
            elif module == "sandbox" and theirs not in SANDBOX_MAY_USE:
                problems.append(f"{path}:{line}: the sandbox imports `{target}`; it may use only base and adapters")
    # Circles among modules (mutual imports within a layer).
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(edges.get(node, {})):
            if state.get(nxt) == "open":
                circle = stack[stack.index(nxt):] + [nxt]
                where = ", ".join(edges[a][b] for a, b in zip(circle, circle[1:]))
                problems.append(f"import circle {' -> '.join(circle)} ({where})")
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} layering problem(s); see docs/development.md, 'Layers'")
        return 1
    print(f"layers: {sum(len(t) for t in edges.values())} module imports, all downward, no circle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
