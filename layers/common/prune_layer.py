"""Removes from a built layer what can never be loaded in Lambda, then compiles what remains.

Two steps, both run by the layers' builds (layers/common/Makefile, which layers/pdf/Makefile
includes): ``prune_layer.py prune DIR`` with any Python, then ``prune_layer.py compile DIR``
with the runtime's Python version (its bytecode only is valid there).

``prune`` removes every ``__pycache__`` (the dev tree's, copied with ``oph``, hold
timestamp-checked bytecode of another build); ``compile`` then writes the bytecode that ships.

reportlab (the PDF layer) imports ``PIL.Image`` unconditionally, so Pillow must ship, but we
never read or write raster images: only ``PIL._imaging`` is loaded, and of Pillow's bundled
native libraries only those it links to (computed from the ELF ``NEEDED`` entries, so a new
Pillow version cannot be pruned wrongly) are kept. Optional codec modules (AVIF, WebP,
FreeType, LittleCMS) and their libraries go. A layer without Pillow is left alone there.

What neither oph nor the code it uses ever imports goes too (``UNUSED_MODULES``,
``UNUSED_FILES``): Powertools' other utilities and the Swagger UI's assets (served only by
``enable_swagger``, never called); pydantic 1's API (``pydantic.v1``); reportlab's charts and drawings (``graphics``), its page
layout engine (``platypus``) and the font files of ``reportlab/fonts`` (the documents are drawn
on a canvas in the standard fonts, whose metrics are in ``reportlab.pdfbase``). A removed
module that anything left in the layer imports, even inside a function, fails the build
(``importers_of``), unless ``KNOWN_IMPORTERS`` says why that code never runs here: a new
release of a dependency cannot be pruned wrongly either. tests/unit/test_layer_build.py checks
that oph and the handlers use none of it. Tests, caches, type stubs, console scripts and the
wheels' ``RECORD`` files go too (``RECORD`` lists the files as pip installed them, stale once
pruned and compiled; only pip reads it, to uninstall; ``METADATA`` stays: it names the
versions, for ``importlib.metadata`` and the scanners of deployed packages).

``compile`` ships every module once, as sourceless bytecode: ``module.pyc`` in place of
``module.py`` (the legacy location, which Python imports when no source is beside it), except
the packages of ``KEEP_SOURCES``, whose sources ship with their bytecode in ``__pycache__``.
Half of a layer's Python was the same modules twice, source and bytecode. What a module
without its source loses: tracebacks show each frame's file and line (the path it has in
Lambda, ``/opt/python/...``) but not the line's text, and ``inspect.getsource`` fails. Nothing
on our path needs sources: pydantic reads them only for ``use_attribute_docstrings`` (not
used), Powertools' log buffering and reportlab's warnings call ``inspect.stack()``, which
tolerates a missing source; docstrings stay (optimisation level 0: the OpenAPI descriptions and
pydantic's schemas read ``__doc__``). Every ``.pyc`` is ``unchecked-hash``: its bytes depend on
the source only (not on pip's file times), so two builds of the same inputs are identical, and
the kept sources' bytecode is used without reading the source's timestamp or hashing it.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

# Modules of the layers' dependencies that neither oph nor what it uses imports.
UNUSED_MODULES = (
    *(
        f"aws_lambda_powertools.utilities.{name}"
        for name in (
            "auth_alpha",
            "circuit_breaker",
            "data_masking",
            "feature_flags",
            "idempotency",
            "kafka",
            "metadata",
            "parameters",
            "streaming",
        )
    ),
    # pydantic 1's API (pydantic.v1) and pydantic's mypy plugin: oph's models are pydantic 2's.
    "pydantic.v1",
    "pydantic.mypy",
    "reportlab.graphics",
    "reportlab.platypus",
    # reportlab.lib modules that exist only for graphics and platypus (or reportlab's tests).
    "reportlab.lib.codecharts",
    "reportlab.lib.corp",
    "reportlab.lib.pygments2xpre",
    "reportlab.lib.testutils",
)
UNUSED_FILES = (
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui-bundle.min.js",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui.min.css",
    "reportlab/fonts",
)
# Modules kept that import a pruned one, and why that import never runs here.
KNOWN_IMPORTERS = {
    "pydantic/_internal/_generate_schema.py": "only for a type with pydantic 1's __get_validators__ hook (none here)",
    "reportlab/lib/pdfencrypt.py": "encrypted PDFs only (Canvas(encrypt=...)); ours are not encrypted",
    "reportlab/lib/validators.py": "inside the checks of reportlab.graphics shapes, which are pruned",
}
# Top-level packages whose sources ship beside their bytecode, and why.
KEEP_SOURCES = {
    "oph": "our own code: its tracebacks in CloudWatch show the failing line's text (0.6 MB)",
}
# Where Lambda extracts a layer's python/ directory: the paths the bytecode records.
LAYER_PATH = "/opt/python"
OPTIONAL_PIL_MODULES = ("_avif", "_webp", "_imagingft", "_imagingcms", "_imagingtk", "_imagingmath", "_imagingmorph")


def needed(library: Path) -> set[str]:
    out = subprocess.run(["readelf", "-d", str(library)], capture_output=True, text=True, check=True).stdout
    return {line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line}


def prune_pillow(root: Path) -> int:
    libs = root / "pillow.libs"
    pil = root / "PIL"
    if not libs.is_dir() or not pil.is_dir():
        return 0
    if shutil.which("readelf") is None:  # binutils missing: ship Pillow whole rather than guess
        print("prune_layer: readelf not found, Pillow left as is", file=sys.stderr)
        return 0
    removed = 0
    for module in pil.glob("*.so"):
        if module.name.startswith(OPTIONAL_PIL_MODULES):
            removed += module.stat().st_size
            module.unlink()
    keep: set[str] = set()
    queue = list(pil.glob("*.so"))
    while queue:
        current = queue.pop()
        for name in needed(current):
            candidate = libs / name
            if candidate.exists() and name not in keep:
                keep.add(name)
                queue.append(candidate)
    for library in libs.iterdir():
        if library.name not in keep:
            removed += library.stat().st_size
            library.unlink()
    return removed


def _remove(path: Path) -> int:
    if path.is_dir():
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        shutil.rmtree(path)
        return size
    if path.exists():
        size = path.stat().st_size
        path.unlink()
        return size
    return 0


def _imported_names(source: Path, root: Path) -> set[str]:
    """Every module name ``source`` imports, anywhere in it (relative imports resolved)."""
    package = list(source.relative_to(root).parent.parts)
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_bytes())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def importers_of(root: Path, modules: tuple[str, ...]) -> dict[str, list[str]]:
    """Modules left in ``root`` that import one of ``modules`` -> what they import."""
    found: dict[str, list[str]] = {}
    last_parts = {module.rsplit(".", 1)[-1].encode() for module in modules}
    for source in root.rglob("*.py"):
        text = source.read_bytes()
        if not any(part in text for part in last_parts):
            continue
        hits = sorted(
            name
            for name in _imported_names(source, root)
            if any(name == module or name.startswith(f"{module}.") for module in modules)
        )
        if hits:
            found[str(source.relative_to(root))] = hits
    return found


def prune_unused(root: Path) -> int:
    removed = 0
    for module in UNUSED_MODULES:
        path = root / module.replace(".", "/")
        removed += _remove(path) + _remove(path.with_suffix(".py"))
    removed += sum(_remove(root / path) for path in UNUSED_FILES)
    importers = {k: v for k, v in importers_of(root, UNUSED_MODULES).items() if k not in KNOWN_IMPORTERS}
    if removed and importers:
        lines = "\n".join(f"  {source} imports {', '.join(names)}" for source, names in sorted(importers.items()))
        raise SystemExit(f"prune_layer: modules pruned as unused are imported (update UNUSED_MODULES):\n{lines}")
    return removed


def prune_generic(root: Path) -> int:
    patterns = ("**/__pycache__", "**/tests", "**/*.pyi", "**/py.typed", "bin", "*.dist-info/RECORD")
    return sum(_remove(path) for pattern in patterns for path in list(root.glob(pattern)))


def prune(root: Path) -> int:
    return prune_pillow(root) + prune_unused(root) + prune_generic(root)


def keeps_source(relative: Path) -> bool:
    """Whether the module at ``relative`` (to the layer's root) ships its source."""
    return relative.parts[0] in KEEP_SOURCES


def compile_layer(root: Path, layer_path: str = LAYER_PATH) -> int:
    """Compiles every module of ``root`` with this interpreter (run it with the runtime's
    version); removes the sources ``KEEP_SOURCES`` does not keep. Returns the bytes removed.
    A module that does not compile fails the build (py_compile.PyCompileError)."""
    removed = 0
    for source in sorted(root.rglob("*.py")):
        relative = source.relative_to(root)
        keep = keeps_source(relative)
        py_compile.compile(
            str(source),
            cfile=importlib.util.cache_from_source(str(source)) if keep else str(source.with_suffix(".pyc")),
            dfile=f"{layer_path}/{relative.as_posix()}",
            doraise=True,
            optimize=0,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        if not keep:
            removed += source.stat().st_size
            source.unlink()
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("step", choices=("prune", "compile"))
    parser.add_argument("root", type=Path, help="the layer's python/ directory")
    parser.add_argument("--layer-path", default=LAYER_PATH, help="where Lambda puts that directory")
    args = parser.parse_args(argv)
    if args.step == "prune":
        print(f"prune_layer: removed {prune(args.root) / 1e6:.1f} MB from {args.root}")
    else:
        removed = compile_layer(args.root, args.layer_path)
        kept = sum(source.stat().st_size for source in args.root.rglob("*.py"))
        print(
            f"prune_layer: compiled {args.root}: {removed / 1e6:.1f} MB of sources replaced, {kept / 1e6:.1f} MB kept"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
