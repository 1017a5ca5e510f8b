"""The import structure: layers point one way and nothing imports in a cycle (function-local imports included)."""

import pytest

grimp = pytest.importorskip("grimp")

#: Bottom to top; a module may import only from its own layer's package or from layers below.
LAYERS = [
    {"_arrays", "_version"},
    {"physics", "data"},
    {"programs"},
    {"circuits"},
    {"backends"},
    {"nn", "annealer"},
    {"models", "classifier", "optimize", "hardware"},
    {"experiments"},
    {"cli"},
]


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("qthybrid")


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cycles(edges: dict) -> list:
    """Strongly connected components with more than one member (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_in_a_cycle(graph):
    edges = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    assert _cycles(edges) == []


def test_no_sub_package_imports_in_a_cycle(graph):
    edges = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = _package(module), _package(imported)
            if a and b and a != b:
                edges.setdefault(a, set()).add(b)
    assert _cycles(edges) == []


def test_layers_point_one_way(graph):
    rank = {package: level for level, packages in enumerate(LAYERS) for package in packages}
    known = {_package(module) for module in graph.modules} - {""}
    assert known <= set(rank), f"packages without a layer: {sorted(known - set(rank))}"
    upward = []
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = _package(module), _package(imported)
            if a and b and rank[b] > rank[a]:
                upward.append(f"{module} -> {imported}")
    assert upward == []
