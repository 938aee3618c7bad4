"""Cold init and deployed size of each function as it ships: built layers, bytecode included.

``python -m scripts.bench_shipped`` (or ``run()`` from ``make bench``) builds every layer of
``layers/*/Makefile`` for the host platform with the build's own steps (``make
build-<Layer> PLATFORM=<host>``: same requirements, prune and compile steps, only the platform
tag differs), cached in ``.cache/bench-layers`` and rebuilt only when a layer's inputs change.
The layers ship sourceless bytecode (``module.pyc`` in place of ``module.py``, but oph's
sources: ``layers/common/prune_layer.py``); ``--without-bytecode`` also builds them with
``LAYER_BYTECODE=no`` (sources only, what shipped before issue 19) and measures both.
Then, for each function of ``template.yaml``, it imports the handler's module in fresh
``python -B -S`` processes whose path is what Lambda gives the function: its CodeUri directory
(copied without bytecode, as ``sam build`` does), its layers (Globals' then its own) and
boto3 alone (the runtime's; none of the venv's other packages). The baseline, in the same run
and the same kind of process: ``import boto3; boto3.client("dynamodb")``.

Benchmarks report; they never fail the build.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.util
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAYERS_DIR = ROOT / "layers"
CACHE = ROOT / ".cache" / "bench-layers"
COMMON_MAKEFILE = LAYERS_DIR / "common" / "Makefile"
# Steps every layer's build shares (layers/pdf/Makefile includes the common Makefile).
SHARED_BUILD_INPUTS = (COMMON_MAKEFILE, LAYERS_DIR / "common" / "prune_layer.py")
# What the Lambda runtime provides: boto3 and its dependencies, nothing else.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
# What `sam build` leaves out of a function's code (aws_lambda_builders' python_pip workflow).
SAM_EXCLUDED = ("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache")
BASELINE_CODE = "import boto3\nboto3.client('dynamodb', region_name='eu-west-3')"
QUICK = os.environ.get("BENCH_QUICK") == "1"

INIT_GOAL = 1.3  # API functions: cold init / (import boto3 + one client)
SIZE_GOAL_MB = 25.0
SMALL_FUNCTIONS = {"RegisterFunction", "AuthFunction", "AccountFunction"}
SMALL_SIZE_GOAL_MB = 12.0


def makefile_default(name: str, makefile: Path = COMMON_MAKEFILE) -> str:
    """``NAME ?= value`` of a layer Makefile (PYTHON_VERSION, PLATFORM): the build's target."""
    match = re.search(rf"^{name}\s*\?=\s*(\S+)", makefile.read_text(encoding="utf-8"), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"{makefile} declares no `{name} ?=` default")
    return match.group(1)


def host_platform() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "manylinux2014_x86_64", "amd64": "manylinux2014_x86_64"}.get(machine, f"manylinux2014_{machine}")


def target_python() -> str:
    """The interpreter of the layers' Python version (the bytecode's), to import them with."""
    version = makefile_default("PYTHON_VERSION")
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if found is None:
        raise RuntimeError(f"python{version} (the layers' PYTHON_VERSION) is not installed")
    return found


def layer_sources() -> dict[str, Path]:
    """Each layer's name (its ``build-<Name>`` target, as sam build calls it) -> its directory."""
    layers = {}
    for makefile in sorted(LAYERS_DIR.glob("*/Makefile")):
        for name in re.findall(r"^build-(\w+):", makefile.read_text(encoding="utf-8"), re.MULTILINE):
            layers[name] = makefile.parent
    return layers


def _inputs_digest(directory: Path, build_platform: str) -> str:
    digest = hashlib.sha256(f"{build_platform}\n{makefile_default('PYTHON_VERSION')}\n".encode())
    files = {p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    for path in sorted(files | set(SHARED_BUILD_INPUTS)):
        digest.update(f"{path.relative_to(ROOT)}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One build of a layer at a time (the bench and a test may run together)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build_layer(name: str, build_platform: str | None = None, bytecode: bool = True) -> Path:
    """The layer built for ``build_platform`` (the host's by default); its ``python`` dir.
    ``bytecode=False``: built with ``LAYER_BYTECODE=no`` (sources, no .pyc), to compare."""
    build_platform = build_platform or host_platform()
    source = layer_sources()[name]
    home = CACHE / f"{name}-{build_platform}{'' if bytecode else '-sources'}"
    built = home / _inputs_digest(source, build_platform)
    with _locked(home / ".lock"):
        if (built / "python").is_dir():
            return built / "python"
        scratch = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=home))
        variables = {"ARTIFACTS_DIR": str(scratch), "PLATFORM": build_platform, "PYTHON": sys.executable}
        done = subprocess.run(
            ["make", "--no-print-directory", "-f", str(source / "Makefile"), f"build-{name}"],
            env={**os.environ, **variables, "LAYER_BYTECODE": "yes" if bytecode else "no"},
            cwd=source,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
            raise RuntimeError(f"make build-{name} PLATFORM={build_platform} failed:\n{tail}")
        for stale in home.iterdir():  # one build per layer and platform is kept
            if stale.is_dir() and stale != scratch:
                shutil.rmtree(stale, ignore_errors=True)
        scratch.rename(built)
    return built / "python"


def build_layers(build_platform: str | None = None, bytecode: bool = True) -> dict[str, Path]:
    return {name: build_layer(name, build_platform, bytecode) for name in layer_sources()}


def runtime_path() -> Path:
    """A directory holding only boto3 and its dependencies (links into the venv)."""
    spec = importlib.util.find_spec("boto3")  # found, not imported (that takes a quarter second)
    if spec is None or spec.origin is None:
        raise RuntimeError("boto3 is not installed in this environment")
    site = Path(spec.origin).resolve().parent.parent
    target = CACHE / "runtime"
    target.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        link = target / name
        if not link.exists():
            link.symlink_to(site / name)
    return target


def size_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def layer_content(path: Path) -> dict[str, int]:
    """A built layer's bytes by kind: bytecode, sources (the ones it keeps), native code, other."""
    content = dict.fromkeys(("bytecode", "sources", "native", "other"), 0)
    for file in (file for file in path.rglob("*") if file.is_file()):
        kind = {".pyc": "bytecode", ".py": "sources"}.get(file.suffix, "native" if ".so" in file.suffixes else "other")
        content[kind] += file.stat().st_size
    return content


@dataclass
class ShippedFunction:
    logical_id: str
    code_uri: str
    module: str
    layers: list[str]
    environment: dict[str, str]
    api: bool


def shipped_functions() -> list[ShippedFunction]:
    from devserver import template as tpl

    resolver = tpl.Resolver(tpl.parameter_defaults(), {}, {})
    glob = tpl.load().get("Globals", {}).get("Function", {})
    result = []
    for logical_id, resource in sorted(tpl.resources("AWS::Serverless::Function").items()):
        props = resource["Properties"]
        layers = [*glob.get("Layers", []), *props.get("Layers", [])]
        variables = {
            **glob.get("Environment", {}).get("Variables", {}),
            **props.get("Environment", {}).get("Variables", {}),
        }
        result.append(
            ShippedFunction(
                logical_id=logical_id,
                code_uri=props["CodeUri"],
                module=props["Handler"].rsplit(".", 1)[0],
                layers=[layer["Ref"] if isinstance(layer, dict) and "Ref" in layer else str(layer) for layer in layers],
                environment={k: str(resolver.resolve(v)) for k, v in variables.items()},
                api=any(event.get("Type") == "Api" for event in props.get("Events", {}).values()),
            )
        )
    return result


def function_code(function: ShippedFunction) -> Path:
    """The function's CodeUri as `sam build` ships it (without bytecode), copied once per content."""
    source = ROOT / function.code_uri
    files = sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    digest = hashlib.sha256(b"".join(str(p.relative_to(source)).encode() + p.read_bytes() for p in files))
    home = CACHE / "functions" / function.code_uri.strip("/").replace("/", "-")
    target = home / digest.hexdigest()[:16]
    if not target.is_dir():
        home.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=home))
        shutil.copytree(source, scratch, ignore=shutil.ignore_patterns(*SAM_EXCLUDED), dirs_exist_ok=True)
        try:
            scratch.rename(target)
        except OSError:  # copied meanwhile by another run
            shutil.rmtree(scratch, ignore_errors=True)
        for stale in home.iterdir():  # earlier contents (not another run's copy in progress)
            if stale != target and not stale.name.startswith("tmp"):
                shutil.rmtree(stale, ignore_errors=True)
    return target


def lambda_environment(function: ShippedFunction, pythonpath: list[Path]) -> dict[str, str]:
    """The function's template environment (local values) and Lambda's own variables."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        **function.environment,
        "AWS_REGION": "eu-west-3",
        "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": f"bench-{function.logical_id}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{makefile_default('PYTHON_VERSION')}",
        "LAMBDA_TASK_ROOT": str(pythonpath[0]),
        "PYTHONPATH": os.pathsep.join(str(p) for p in pythonpath),
    }


def fresh_import_seconds(python: str, code: str, env: dict[str, str]) -> float:
    """One fresh process: the time `code` takes (interpreter start-up excluded). -S keeps the
    venv's site-packages out of the path; -B writes no bytecode, as /opt is read-only."""
    program = f"import time\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
    done = subprocess.run(
        [python, "-B", "-S", "-c", program], env=env, capture_output=True, text=True, cwd=env.get("LAMBDA_TASK_ROOT")
    )
    if done.returncode != 0:
        raise RuntimeError((done.stderr.strip().splitlines() or ["failed"])[-1])
    return float(done.stdout.strip().splitlines()[-1])


@dataclass
class Target:
    """One thing to import in fresh processes: a function, or the baseline."""

    name: str
    code: str
    env: dict[str, str]
    samples: list[float]
    error: str | None = None


def import_targets(functions: list[ShippedFunction], layers: dict[str, Path], runtime: Path) -> list[Target]:
    targets = []
    for function in functions:
        missing = [name for name in function.layers if name not in layers]
        code_dir = function_code(function)
        # Lambda extracts the layers in order into /opt, a later one overwriting an earlier one.
        path = [code_dir, *(layers[name] for name in reversed(function.layers) if name in layers), runtime]
        target = Target(function.logical_id, f"import {function.module}", lambda_environment(function, path), [])
        if missing:
            target.error = f"layer(s) not built here: {', '.join(missing)}"
        targets.append(target)
    return targets


def _measure(python: str, targets: list[Target], repetitions: int) -> None:
    for round_ in range(repetitions + 1):  # interleaved, so noise hits every measure alike
        for target in targets:
            if target.error:
                continue
            try:
                seconds = fresh_import_seconds(python, target.code, target.env)
            except RuntimeError as exc:
                target.error = str(exc)
                continue
            if round_:  # the first round warms the OS file cache
                target.samples.append(seconds)


def run(repetitions: int | None = None, compare_without_bytecode: bool = False) -> dict[str, Any]:
    """Builds the layers for the host, measures every function; returns the figures (ms, MB)."""
    repetitions = repetitions or (3 if QUICK else 7)
    started = time.perf_counter()
    build_platform = host_platform()
    layers = build_layers(build_platform)
    runtime = runtime_path()
    python = target_python()
    functions = shipped_functions()
    targets = import_targets(functions, layers, runtime)
    baseline = Target("baseline", BASELINE_CODE, lambda_environment(functions[0], [runtime]), [])
    bare: list[Target] = []
    if compare_without_bytecode:
        bare = import_targets(functions, build_layers(build_platform, bytecode=False), runtime)
    _measure(python, [baseline, *targets, *bare], repetitions)
    if baseline.error or not baseline.samples:
        raise RuntimeError(f"baseline failed: {baseline.error}")
    base = statistics.median(baseline.samples)
    # Sizes are the deployed ones: the layers built for the runtime's platform (arm64).
    deployed_platform = makefile_default("PLATFORM")
    deployed = layers if deployed_platform == build_platform else build_layers(deployed_platform)
    contents = {name: layer_content(path) for name, path in deployed.items()}
    layer_sizes = {name: sum(content.values()) for name, content in contents.items()}
    result: dict[str, Any] = {
        "python": makefile_default("PYTHON_VERSION"),
        "platform": build_platform,
        "deployed_platform": deployed_platform,
        "repetitions": repetitions,
        "baseline_ms": base * 1000,
        "layers_mb": {name: size / 1e6 for name, size in layer_sizes.items()},
        "layers_content_mb": {name: {k: v / 1e6 for k, v in c.items()} for name, c in contents.items()},
        "functions": {},
    }
    for index, function in enumerate(functions):
        target = targets[index]
        size = size_bytes(Path(target.env["LAMBDA_TASK_ROOT"])) + sum(layer_sizes.get(n, 0) for n in function.layers)
        goal_mb = SMALL_SIZE_GOAL_MB if function.logical_id in SMALL_FUNCTIONS else SIZE_GOAL_MB
        figures: dict[str, Any] = {
            "module": f"{function.code_uri.rstrip('/')}/{function.module}.py",
            "layers": function.layers,
            "api": function.api,
            "size_mb": size / 1e6,
            "size_goal_mb": goal_mb,
            "size_met": size / 1e6 <= goal_mb,
            "error": target.error,
        }
        if target.samples:
            init = statistics.median(target.samples)
            figures |= {"init_ms": init * 1000, "ratio": init / base, "init_met": init / base <= INIT_GOAL}
        if bare and bare[index].samples:
            figures["init_without_bytecode_ms"] = statistics.median(bare[index].samples) * 1000
            figures["ratio_without_bytecode"] = figures["init_without_bytecode_ms"] / (base * 1000)
        result["functions"][function.logical_id] = figures
    result["seconds"] = time.perf_counter() - started
    return result


def _goal(met: bool, goal: str) -> str:
    return f"{'met' if met else 'NOT MET'} ({goal})"


def table(result: dict[str, Any]) -> str:
    """The figures as a Markdown table (what `make bench` can paste into docs/PERFORMANCE.md)."""
    bare = any("init_without_bytecode_ms" in f for f in result["functions"].values())
    header = ["function", "layers", "cold init", "ratio", "goal", "deployed size", "goal"]
    if bare:
        header[4:4] = ["without .pyc", "ratio"]
    rows = [["**Baseline**: `import boto3; boto3.client('dynamodb')`", "", f"{result['baseline_ms']:.0f} ms", "1.00"]]
    rows[0] += [""] * (len(header) - len(rows[0]))
    for name, f in result["functions"].items():
        row = [f"`{name}` ({f['module']})", ", ".join(f["layers"])]
        if "init_ms" in f:
            goal = _goal(f["init_met"], f"≤ {INIT_GOAL}") if f["api"] else "(not an API function)"
            row += [f"{f['init_ms']:.0f} ms", f"{f['ratio']:.2f}"]
            if bare:
                row += [f"{f.get('init_without_bytecode_ms', 0):.0f} ms", f"{f.get('ratio_without_bytecode', 0):.2f}"]
            row.append(goal)
        else:
            row += [f"not measured: {f['error']}", ""] + (["", ""] if bare else []) + [""]
        row += [f"{f['size_mb']:.1f} MB", _goal(f["size_met"], f"≤ {f['size_goal_mb']:.0f} MB")]
        rows.append(row)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    layers = ", ".join(
        f"`{name}` {mb:.1f} MB: " + ", ".join(f"{k} {v:.1f}" for k, v in result["layers_content_mb"][name].items())
        for name, mb in result["layers_mb"].items()
    )
    lines += [
        "",
        f"Cold init: layers built for {result['platform']} with the build's steps (Python {result['python']} "
        f"bytecode), median of {result['repetitions']} fresh `python -B -S` processes each. Deployed size: "
        f"function code + layers as built for {result['deployed_platform']}, unzipped ({layers}). "
        f"{result['seconds']:.0f} s.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", "--repetitions", type=int, default=None, help="fresh processes per function (median)")
    parser.add_argument(
        "--without-bytecode",
        action="store_true",
        help="also measure the layers built without bytecode (LAYER_BYTECODE=no: sources only, as before)",
    )
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT)]
    print(table(run(args.repetitions, args.without_bytecode)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
