"""What the benchmark scripts share: replacing their section of docs/BENCHMARKS.md,
and an interpreter with PyTorch for the side-by-side runs."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "docs" / "BENCHMARKS.md"


def replace_section(heading, body):
    """Replaces the section under `heading` (up to the next "## ") with `body`, or appends it."""
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        text = text.rstrip("\n") + f"\n\n{heading}\n\n{body}"
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        tail = "".join(lines[end:])
        text = "".join(lines[:start]) + f"{heading}\n\n{body}" + ("\n" + tail if tail else "")
    BENCHMARKS.write_text(text)
    return BENCHMARKS.relative_to(REPO)


def torch_python():
    """An interpreter with torch, numpy and Pillow: $FOLDWISE_PYTHON, this one, or a venv at
    .build-venv/ (created with pip on first use; torch is never a Foldwise dependency)."""
    configured = os.environ.get("FOLDWISE_PYTHON")
    if configured:
        return configured
    if all(importlib.util.find_spec(name) for name in ("torch", "numpy", "PIL")):
        return sys.executable
    python = REPO / ".build-venv" / "bin" / "python"
    if not python.exists():
        print(f"creating {python.parent.parent} for the PyTorch side", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(python.parent.parent)], check=True)
    if subprocess.run([str(python), "-c", "import torch, numpy, PIL"], capture_output=True).returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "torch", "numpy", "pillow"], check=True)
    return str(python)
