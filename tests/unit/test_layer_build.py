"""The layers as they ship: built for the host with the build's own steps (the bench's cache,
``scripts/bench_shipped.py``), each function's handler imported from them in a fresh process,
as Lambda would (its CodeUri, its layers, boto3 alone).

Every module a function imports from a layer must have its bytecode there, compiled for the
runtime's Python and with ``unchecked-hash`` (``/opt`` is read-only: a missing ``.pyc`` is
compiled again at every cold start). Each module ships once: sourceless bytecode
(``module.pyc`` in place of ``module.py``), but for the packages of
``prune_layer.KEEP_SOURCES`` (oph), whose sources ship with their ``__pycache__``. The PDF
stack is in its own layer only.
"""

from __future__ import annotations

import importlib.util
import json
import marshal
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import CodeType

import prune_layer
import pytest

from devserver import template as tpl
from scripts import bench_shipped as shipped

PYTHON_VERSION = shipped.makefile_default("PYTHON_VERSION")
CACHE_TAG = f"cpython-{PYTHON_VERSION.replace('.', '')}"
UNCHECKED_HASH = 0b01  # PEP 552: hash-based, check_source off
PDF_MODULES = ("reportlab", "PIL", "_rl_accel")

# Imports each handler module in turn; prints, for each, the modules loaded so far (name ->
# file, or None for a built-in module).
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


def _header_problem(pyc: Path) -> str | None:
    header = pyc.read_bytes()[:8]
    if header[:4] != importlib.util.MAGIC_NUMBER:
        return "compiled by another Python version"
    flags = int.from_bytes(header[4:8], "little")
    return None if flags == UNCHECKED_HASH else f"not unchecked-hash (flags {flags})"


def _bytecode_problem(file: Path, layer: Path) -> str | None:
    """What is wrong with how the module loaded from ``file`` ships, if anything."""
    keeps_source = prune_layer.keeps_source(file.relative_to(layer))
    if file.suffix == ".pyc":  # sourceless: the bytecode is the module
        if keeps_source:
            return "shipped without its source, which KEEP_SOURCES keeps"
        return "a source ships beside it" if file.with_suffix(".py").exists() else _header_problem(file)
    if not keeps_source:
        return "shipped as source (not in KEEP_SOURCES): it ships twice"
    cached = file.parent / "__pycache__" / f"{file.stem}.{CACHE_TAG}.pyc"
    return _header_problem(cached) if cached.is_file() else "no .pyc"


def _code(pyc: Path) -> CodeType:
    code = marshal.loads(pyc.read_bytes()[16:])  # after the 16-byte header (PEP 552)
    assert isinstance(code, CodeType), pyc
    return code


def test_the_bench_runs_the_runtimes_python():
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == PYTHON_VERSION, "run the tests with the venv"


def test_every_module_a_function_imports_from_a_layer_ships_its_bytecode(layers, imported):
    checked = 0
    problems = []
    for function, modules in imported.items():
        for name, file in sorted(modules.items()):
            if not file or not file.endswith((".py", ".pyc")):
                continue  # built-in, or native code
            path = Path(file)
            layer = next((layer for layer in layers.values() if path.is_relative_to(layer)), None)
            if layer is None:
                continue
            checked += 1
            if problem := _bytecode_problem(path, layer):
                problems.append(f"{function}: {name} ({path.name}): {problem}")
    assert not problems, "\n".join(problems)
    assert checked > 100 * len(imported)  # oph, Powertools, pydantic: the check saw the layers


def test_each_module_ships_once(layers):
    """Sources only in KEEP_SOURCES's packages, each with its bytecode; elsewhere the bytecode
    alone, recording the module's path in Lambda (tracebacks: /opt/python/..., line)."""
    problems = []
    for name, layer in layers.items():
        for file in layer.rglob("*.py"):
            if problem := _bytecode_problem(file, layer):
                problems.append(f"{name}: {file.relative_to(layer)}: {problem}")
        for pyc in layer.rglob("*.pyc"):
            relative = pyc.relative_to(layer)
            if pyc.parent.name == "__pycache__":
                source = pyc.parent.parent / f"{pyc.name.split('.')[0]}.py"
                if not source.is_file() or not prune_layer.keeps_source(relative):
                    problems.append(f"{name}: {relative}: __pycache__ bytecode of no kept source")
            elif (problem := _bytecode_problem(pyc, layer)) or (problem := _recorded_path_problem(pyc, relative)):
                problems.append(f"{name}: {relative}: {problem}")
    assert not problems, "\n".join(problems[:30])


def _recorded_path_problem(pyc: Path, relative: Path) -> str | None:
    recorded = _code(pyc).co_filename
    expected = f"{prune_layer.LAYER_PATH}/{relative.with_suffix('.py').as_posix()}"
    return None if recorded == expected else f"records {recorded}, not {expected}"


def test_the_layers_keep_the_wheels_metadata_not_their_stale_file_lists(layers):
    for layer in layers.values():
        for dist_info in layer.glob("*.dist-info"):
            assert (dist_info / "METADATA").is_file(), dist_info.name  # importlib.metadata.version
            assert not (dist_info / "RECORD").exists(), dist_info.name  # lists the pruned sources


def test_a_sourceless_module_fails_with_its_file_and_line_a_kept_one_with_the_lines_text(tmp_path):
    """What shipping without sources costs: the text of a frame's line in a traceback, nothing
    else (its file, as in Lambda, and its line stay)."""
    layer = tmp_path / "python"
    packages = ("dependency", next(iter(prune_layer.KEEP_SOURCES)))
    for package in packages:
        (layer / package).mkdir(parents=True)
        (layer / package / "__init__.py").write_text("")
        (layer / package / "failing.py").write_text(
            textwrap.dedent(f"""
            def fail():
                raise ValueError("{package} failed")  # the line's text
            """)
        )
    prune_layer.compile_layer(layer)
    assert not (layer / "dependency" / "failing.py").exists()
    program = "import importlib, sys\nimportlib.import_module(sys.argv[1] + '.failing').fail()"
    tracebacks = []
    for package in packages:
        done = subprocess.run(
            [sys.executable, "-B", "-S", "-c", program, package],
            env={"PYTHONPATH": str(layer)},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 1 and f"ValueError: {package} failed" in done.stderr, done.stderr
        tracebacks.append(done.stderr)
    sourceless, kept = tracebacks
    assert 'File "/opt/python/dependency/failing.py", line 3, in fail' in sourceless
    assert "the line's text" not in sourceless
    assert "the line's text" in kept


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
    common = shipped.COMMON_MAKEFILE.read_text(encoding="utf-8")
    steps = [line for line in common.splitlines() if not line.startswith("#")]
    compile_steps = [line for line in steps if "prune_layer.py compile" in line]
    assert len(compile_steps) == 1, compile_steps  # the compile step, defined once
    assert f"--layer-path {prune_layer.LAYER_PATH} " in compile_steps[0]
    for makefile in (shipped.LAYERS_DIR / "pdf" / "Makefile",):
        text = "\n".join(line for line in makefile.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
        assert "include $(PDF_DIR)../common/Makefile" in text  # the same steps, defined once
        assert "$(prune-and-compile)" in text and "compileall" not in text and "prune_layer.py" not in text


# What the pruned parts would be needed for (layers/common/prune_layer.py): the Swagger UI's
# assets, reportlab's font files (registered fonts) and platypus (encrypted PDFs); and the
# sources of the dependencies (shipped as bytecode alone): pydantic's attribute docstrings
# (read from the source), anything reading a source.
NEEDS_PRUNED = re.compile(
    r"enable_swagger|registerFont|TTFont|encrypt\s*=|use_attribute_docstrings|getsource|findsource|linecache"
)


def test_nothing_imports_or_needs_what_the_build_prunes():
    functions = shipped.ROOT / "functions"
    oph = shipped.LAYERS_DIR / "common" / "oph"
    assert prune_layer.importers_of(functions, prune_layer.UNUSED_MODULES) == {}
    assert prune_layer.importers_of(oph.parent, prune_layer.UNUSED_MODULES) == {}
    for source in [*functions.rglob("*.py"), *oph.rglob("*.py")]:
        assert not NEEDS_PRUNED.search(source.read_text(encoding="utf-8")), source
