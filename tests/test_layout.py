"""The package's layers: each module imports only from its own layer or the ones below it.

Imports are read from the source (function-level ones included), so a lazy import
that climbs a layer or closes a cycle fails here as a top-level one would.
"""

import ast
import os
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "keras_gans"
MAX_LINES = 500

# Bottom to top; a module may import from its own layer and any layer before it.
LAYERS = [
    ("utilities", ["keras_gans.utils", "keras_gans.recipes", "keras_gans.distribute"]),
    (
        "data, images, metrics",
        ["keras_gans.data", "keras_gans.images", "keras_gans.metrics"],
    ),
    ("networks", ["keras_gans.networks"]),
    ("converters", ["keras_gans.convert"]),
    ("objective", ["keras_gans.objective"]),
    ("trainers", ["keras_gans.trainers"]),
    ("hub", ["keras_gans.hub"]),
    ("models", ["keras_gans.models"]),
    ("callbacks", ["keras_gans.callbacks"]),
    ("runner", ["keras_gans.runner"]),
    ("demo", ["keras_gans.demo"]),
    ("CLI", ["keras_gans.commands", "keras_gans.cli"]),
]


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


MODULES = dict(_modules())


def _layer(module):
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def _imports(name, path):
    """The keras_gans modules `path` imports, anywhere in the file."""
    found = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return {module for module in found if module.split(".")[0] == "keras_gans"}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_every_module_belongs_to_a_layer():
    assert [name for name in MODULES if name != "keras_gans" and _layer(name) is None] == []


@pytest.mark.parametrize("name", [n for n in MODULES if n != "keras_gans"])
def test_module_imports_only_downward(name):
    upward = [
        target
        for target in GRAPH[name]
        if target == "keras_gans" or (_layer(target) or 0) > _layer(name)
    ]
    assert upward == [], f"{name} ({LAYERS[_layer(name)][0]}) imports {upward}"


def test_no_import_cycles():
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for target in sorted(GRAPH.get(node, ())):
            if target not in GRAPH or target == node:
                continue
            if state.get(target) == "open":
                cycle = stack[stack.index(target) :] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, stack + [target])
        state[node] = "done"

    for name in GRAPH:
        if name not in state:
            visit(name, [name])


@pytest.mark.parametrize("name", list(MODULES))
def test_no_module_is_over_500_lines(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{os.path.relpath(MODULES[name])}: {lines} lines"


def test_no_test_or_benchmark_module_is_over_500_lines():
    root = PACKAGE.parent
    files = sorted((root / "tests").glob("*.py")) + sorted((root / "benchmarks").glob("*.py"))
    long = {
        f"{p.parent.name}/{p.name}": n
        for p in files
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert len(files) > 40 and not long, long


def test_the_wheel_carries_the_zoo_and_every_package():
    zoo = PACKAGE.parent / "zoo"
    assert len(sorted(zoo.glob("*.toml"))) >= 11 and (zoo / "results.csv").is_file()
    config = (PACKAGE.parent / "pyproject.toml").read_text()
    assert '"keras_gans.zoo" = "zoo"' in config
    assert '"keras_gans.zoo" = ["*.toml", "*.csv"]' in config
    # pyproject lists the packages by name (the zoo's mapping needs it): none may be missing.
    packages = {".".join(p.relative_to(PACKAGE.parent).parent.parts)
                for p in PACKAGE.rglob("__init__.py")}  # fmt: skip
    assert [name for name in sorted(packages) if f'"{name}",' not in config] == []


def test_every_model_stands_on_one_base():
    import keras_gans
    from keras_gans.models.network_model import NetworkModel

    names = ["GAN", "DCGAN", "ConditionalGAN", "WGANGP", "StyleGAN2", "R3GAN", "Pix2Pix",
             "CycleGAN"]  # fmt: skip
    assert [n for n in names if not issubclass(getattr(keras_gans, n), NetworkModel)] == []
