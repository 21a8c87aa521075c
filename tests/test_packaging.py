"""`pip install .` gives a working tool outside the checkout, built-in profiles included."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_carries_profiles_and_firmware_tables_and_runs_elsewhere(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(ROOT)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("endpoints_sip-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for profile in ("cisco-ce", "cisco-roomos", "cisco-tc", "polycom-group", "polycom-hdx"):
        assert f"endpoints/_profiles/{profile}.yaml" in names
    assert any(n.startswith("endpoints/lab/polycom_firmware/") for n in names)
    assert any(n.endswith("entry_points.txt") for n in names)

    site = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
                                str(wheel)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = ("import endpoints, endpoints.profiles as p; "
             "print(endpoints.__file__); print(p.builtin_dir()); print(sorted(p.ProfileSet.load().profiles))")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=away, env=env)
    assert shown.returncode == 0, shown.stderr
    module, folder, profiles = shown.stdout.splitlines()
    assert module.startswith(str(site)) and folder == str(site / "endpoints" / "_profiles")
    assert profiles == "['cisco-ce', 'cisco-roomos', 'cisco-tc', 'polycom-group', 'polycom-hdx']"
    helped = subprocess.run([sys.executable, "-m", "endpoints", "--help"], capture_output=True, text=True,
                            cwd=away, env=env)
    assert helped.returncode == 0 and "apply" in helped.stdout
