"""The layers as they ship: built for the host with the build's own steps (the bench's cache,
``scripts/bench_shipped.py``), each function's handler imported from them in a fresh process,
as Lambda would (its CodeUri, its layers, boto3 alone).

Every module a function imports from a layer must have its bytecode there, compiled for the
runtime's Python and with ``unchecked-hash`` (``/opt`` is read-only: a missing ``.pyc`` is
compiled again at every cold start). The PDF stack is in its own layer only.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import prune_layer
import pytest

from devserver import template as tpl
from scripts import bench_shipped as shipped

PYTHON_VERSION = shipped.makefile_default("PYTHON_VERSION")
CACHE_TAG = f"cpython-{PYTHON_VERSION.replace('.', '')}"
UNCHECKED_HASH = 0b01  # PEP 552: hash-based, check_source off
PDF_MODULES = ("reportlab", "PIL", "_rl_accel")

# Imports each handler module in turn; prints, for each, the modules loaded so far (name -> file).
LIST_MODULES = """
import importlib, json, sys
loaded = {}
for handler in sys.argv[1:]:
    importlib.import_module(handler)
    loaded[handler] = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
print(json.dumps(loaded))
"""


@pytest.fixture(scope="module")
def layers() -> dict[str, Path]:
    try:
        return shipped.build_layers()
    except RuntimeError as exc:
        pytest.fail(f"the layers cannot be built for the host (is the package index reachable?):\n{exc}")


@pytest.fixture(scope="module")
def imported(layers: dict[str, Path]) -> dict[str, dict[str, str | None]]:
    """Each function -> the modules its handler's import loads (name -> file). The functions
    that share a CodeUri and layers are imported in one process (one after the other)."""
    runtime = shipped.runtime_path()
    functions = shipped.shipped_functions()
    targets = shipped.import_targets(functions, layers, runtime)
    groups: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for index, (function, target) in enumerate(zip(functions, targets, strict=True)):
        assert target.error is None, f"{function.logical_id}: {target.error}"
        groups.setdefault((function.code_uri, tuple(function.layers)), []).append(index)

    def load(members: list[int]) -> dict[str, dict[str, str | None]]:
        env = targets[members[0]].env
        modules = [functions[index].module for index in members]
        done = subprocess.run(
            [shipped.target_python(), "-B", "-S", "-c", LIST_MODULES, *modules],
            env=env,
            capture_output=True,
            text=True,
            cwd=env["LAMBDA_TASK_ROOT"],
        )
        names = ", ".join(functions[index].logical_id for index in members)
        assert done.returncode == 0, f"{names}: the handler does not import from its layers:\n{done.stderr}"
        loaded = json.loads(done.stdout.strip().splitlines()[-1])
        return {functions[index].logical_id: loaded[functions[index].module] for index in members}

    result: dict[str, dict[str, str | None]] = {}
    with ThreadPoolExecutor(max_workers=3) as pool:
        for loaded in pool.map(load, groups.values()):
            result |= loaded
    return result


def _bytecode_problem(source: Path) -> str | None:
    cached = source.parent / "__pycache__" / f"{source.stem}.{CACHE_TAG}.pyc"
    if not cached.is_file():
        return "no .pyc"
    header = cached.read_bytes()[:8]
    if header[:4] != importlib.util.MAGIC_NUMBER:
        return "compiled by another Python version"
    flags = int.from_bytes(header[4:8], "little")
    return None if flags == UNCHECKED_HASH else f"not unchecked-hash (flags {flags})"


def test_the_bench_runs_the_runtimes_python():
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == PYTHON_VERSION, "run the tests with the venv"


def test_every_module_a_function_imports_from_a_layer_ships_its_bytecode(layers, imported):
    checked = 0
    problems = []
    for function, modules in imported.items():
        for name, file in sorted(modules.items()):
            if not file or not file.endswith(".py"):
                continue
            path = Path(file)
            if not any(path.is_relative_to(layer) for layer in layers.values()):
                continue
            checked += 1
            if problem := _bytecode_problem(path):
                problems.append(f"{function}: {name} ({path.name}): {problem}")
    assert not problems, "\n".join(problems)
    assert checked > 100 * len(imported)  # oph, Powertools, pydantic: the check saw the layers


def test_the_pdf_stack_ships_in_its_own_layer_only(layers):
    common = {path.name for path in layers["CommonLayer"].iterdir()}
    pdf = {path.name for path in layers["PdfLayer"].iterdir()}
    assert not common & {"reportlab", "PIL", "pillow.libs", "_rl_accel.abi3.so", "aws_xray_sdk", "wrapt"}
    assert {"reportlab", "PIL", "_rl_accel.abi3.so", "charset_normalizer"} <= pdf
    assert "oph" in common and not pdf & {"oph", "pydantic", "aws_lambda_powertools"}


def test_functions_without_the_pdf_layer_never_load_the_pdf_stack(imported):
    functions = {function.logical_id: function for function in shipped.shipped_functions()}
    for logical_id, modules in imported.items():
        if "PdfLayer" not in functions[logical_id].layers:
            assert not [name for name in modules if name.split(".")[0] in PDF_MODULES], logical_id


def test_the_build_targets_the_templates_runtime():
    glob = tpl.load()["Globals"]["Function"]
    assert glob["Runtime"] == f"python{PYTHON_VERSION}"
    architecture = {"arm64": "aarch64", "x86_64": "x86_64"}[glob["Architectures"][0]]
    assert shipped.makefile_default("PLATFORM") == f"manylinux2014_{architecture}"
    for makefile in (shipped.LAYERS_DIR / "pdf" / "Makefile",):
        text = makefile.read_text(encoding="utf-8")
        assert "include $(PDF_DIR)../common/Makefile" in text  # the same steps, defined once


# What the pruned parts would be needed for (layers/common/prune_layer.py): the Swagger UI's
# assets, reportlab's font files (registered fonts) and platypus (encrypted PDFs).
NEEDS_PRUNED = re.compile(r"enable_swagger|registerFont|TTFont|encrypt\s*=")


def test_nothing_imports_or_needs_what_the_build_prunes():
    functions = shipped.ROOT / "functions"
    oph = shipped.LAYERS_DIR / "common" / "oph"
    assert prune_layer.importers_of(functions, prune_layer.UNUSED_MODULES) == {}
    assert prune_layer.importers_of(oph.parent, prune_layer.UNUSED_MODULES) == {}
    for source in [*functions.rglob("*.py"), *oph.rglob("*.py")]:
        assert not NEEDS_PRUNED.search(source.read_text(encoding="utf-8")), source
