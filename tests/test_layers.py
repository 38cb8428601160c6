"""The import graph keeps its shape: the ground floor imports nothing of the project, readers never
import writers, the repository stands alone."""

from __future__ import annotations

import ast
import subprocess

from orchestration.settings import PROJECT_ROOT

PACKAGES = {"bureau", "compliance", "dashboards", "data_quality", "devtools", "engines", "foundation", "ingestion"}
PACKAGES |= {"orchestration", "source_system"}
# package -> the project packages it may import
ALLOWED = {
    "foundation": set(),
    "source_system": {"foundation"},
    "data_quality": {"foundation"},
    "ingestion": {"foundation", "data_quality"},
    "bureau": {"foundation", "ingestion"},
    "compliance": {"foundation"},
    "dashboards": {"foundation", "bureau", "compliance"},  # the published copy's contract, rule titles, explain
    "devtools": {"foundation", "dashboards"},
    "orchestration": PACKAGES - {"orchestration", "dashboards", "devtools", "engines"},
    "engines": {"foundation", "ingestion", "orchestration"},  # a second engine beside the pipeline, above it
}


def imports_of(package: str) -> set[str]:
    found = set()
    for path in (PROJECT_ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return (found & PACKAGES) - {package}


def test_each_package_imports_only_the_layers_below_it():
    assert set(ALLOWED) == PACKAGES
    wrong = {package: imports_of(package) - allowed for package, allowed in ALLOWED.items()}
    assert not any(wrong.values()), wrong


def test_the_repository_stands_alone():
    tracked = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    outside, needle = [], "../" + "shared"  # split, so this file does not name it
    for name in tracked.stdout.split():
        path = PROJECT_ROOT / name
        if path.suffix in {".py", ".md", ".sql", ".yml", ".toml"} and path.is_file():
            if needle in path.read_text(encoding="utf-8", errors="replace"):
                outside.append(name)
    assert outside == [], outside
