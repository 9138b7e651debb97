"""python/API.md tells the truth: every tinygrad name it marks present is on
tg.Tensor, every C function it names is declared and called by tg._C, and
nothing it marks missing has appeared (python/tools/api_table.py --check;
tinygrad is not needed)."""
import os
import subprocess
import sys

ROOT = os.environ.get("TG_SOURCE_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def test_api_table_check():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "python", "tools", "api_table.py"), "--check"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
