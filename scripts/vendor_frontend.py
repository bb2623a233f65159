"""Refresh the front-end libraries shipped inside the package from the npm registry.

The portal, the screens and the admin pages must work inside a city data centre without
internet access, so their libraries are files of the package, never a CDN. The versions are
pinned in ``frontend/package.json`` and ``frontend/package-lock.json``; this script installs
exactly those (``npm ci``, no install scripts) into a temporary directory and copies the files
named under ``cityhub.vendor`` — always with the library's licence — to where the package
serves them. It writes ``manifest.json`` beside each copy with the version, licence and source.

    python scripts/vendor_frontend.py            # after changing a version in frontend/
    (cd frontend && npm install --package-lock-only --ignore-scripts) # to re-pin first
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "frontend"


def main() -> int:
    package = json.loads((FRONTEND / "package.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="cityhub-frontend-") as work:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(FRONTEND / name, Path(work) / name)
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=work, check=True
        )
        for library, spec in package["cityhub"]["vendor"].items():
            copy_library(Path(work) / "node_modules" / library, ROOT / spec["to"], spec["files"])
    return 0


def copy_library(source: Path, target: Path, files: list[str]) -> None:
    """Replace ``target`` by ``files`` of the installed library and a manifest of its origin."""
    meta = json.loads((source / "package.json").read_text(encoding="utf-8"))
    if target.exists():
        shutil.rmtree(target)
    for name in files:
        destination = (
            target / Path(name).relative_to("dist") if name.startswith("dist/") else target / name
        )
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / name, destination)
    manifest = {
        "name": meta["name"],
        "version": meta["version"],
        "license": meta.get("license"),
        "homepage": meta.get("homepage"),
        "source": f"npm:{meta['name']}@{meta['version']}",
        "files": sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()),
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"{meta['name']} {meta['version']} -> {target.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
