"""The wheel carries everything a node needs: build it as ``make dist`` does, install it into a
fresh virtual environment and run ``coalition demo --exit`` far from the repository.

Offline by construction: ``make dist`` builds without isolation (its build tools are in the
dev set) and the fresh environment gets coalition *only* from the wheel (``pip install
--no-deps --no-index``); its third-party dependencies are the already installed ones of the
interpreter running the tests, reached through a ``.pth`` file (the editable coalition of the
dev environment is not: ``.pth`` files of an added folder are not processed), and ``pip
check`` holds them against the wheel's declared requirements.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "coalition"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # The sdist first and the wheel from it (build's default): the sdist is checked too.
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    return out


def _wheel(dist: Path) -> Path:
    (wheel,) = dist.glob("coalition-*.whl")
    return wheel


def test_wheel_and_sdist_carry_every_package_file(dist: Path) -> None:
    names = set(zipfile.ZipFile(_wheel(dist)).namelist())
    expected = {f"coalition/{p.relative_to(PACKAGE).as_posix()}" for p in PACKAGE.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert expected - names == set()
    assert any(n.startswith("coalition/node/db/migrations/versions/0001") for n in names)
    (sdist,) = dist.glob("coalition-*.tar.gz")
    assert sdist.stat().st_size > 0


def test_installed_wheel_runs_the_demo_without_the_repository(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "_dependencies.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    subprocess.run([*pip, "install", "-q", "--no-deps", "--no-index", str(_wheel(dist))],
                   check=True, timeout=300)
    subprocess.run([*pip, "check"], check=True, timeout=120, capture_output=True)

    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "COALITION_"))}
    where = subprocess.run([str(python), "-P", "-c", "import coalition; print(coalition.__file__)"],
                           cwd=away, env=env, check=True, capture_output=True, text=True)
    assert Path(where.stdout.strip()).is_relative_to(venv)

    run = subprocess.run([str(venv / "bin" / "coalition"), "demo", "--exit", "--json",
                          "--trees", "1", "--customers", "400", "--dir", str(away / "demo")],
                         cwd=away, env=env, capture_output=True, text=True, timeout=600,
                         check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["mode"] == "network" and summary["state"] == "succeeded", summary
    assert set(summary["nodes"]) == {"bank", "telco", "carmaker"}
