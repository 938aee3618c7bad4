"""Removes from the built layer what can never be loaded by our code in Lambda.

reportlab imports ``PIL.Image`` unconditionally, so Pillow must ship, but we never read or
write raster images: only ``PIL._imaging`` is loaded, and of Pillow's bundled native
libraries only those it links to (computed from the ELF ``NEEDED`` entries, so a new Pillow
version cannot be pruned wrongly) are kept. Optional codec modules (AVIF, WebP, FreeType,
LittleCMS) and their libraries go. Tests, caches and type stubs go too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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


def prune_generic(root: Path) -> int:
    removed = 0
    for pattern in ("**/__pycache__", "**/tests", "**/*.pyi", "**/py.typed"):
        for path in list(root.glob(pattern)):
            if path.is_dir():
                removed += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
                shutil.rmtree(path)
            elif path.exists():
                removed += path.stat().st_size
                path.unlink()
    return removed


def main() -> int:
    root = Path(sys.argv[1])
    saved = prune_pillow(root) + prune_generic(root)
    print(f"prune_layer: removed {saved / 1e6:.1f} MB from {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
