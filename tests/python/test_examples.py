"""The README's Python section and python/examples/mlp.py run as written and
train (the loss falls)."""
import os
import re
import subprocess
import sys

import tg

ROOT = os.environ.get("TG_SOURCE_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def run(args, cwd, device):
    env = dict(os.environ, TG_DEVICE=device.name)
    out = subprocess.run([sys.executable] + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_mlp_example_trains(tmp_path):
    """On cpu where it is built: the example's 64-wide layers take minutes on ref's interpreter."""
    found = {p["name"] for p in tg.devices() if p["ok"]}
    dev = tg.Device("cpu" if "cpu" in found else "ref")
    save = tmp_path / "mlp.safetensors"
    out = run([os.path.join(ROOT, "python", "examples", "mlp.py"), "--steps", "150", "--save", str(save)],
              tmp_path, dev)
    losses = [float(v) for v in re.findall(r"loss (\d+\.\d+)", out)]
    assert len(losses) == 3 and losses[-1] < losses[0] / 3, out
    assert float(re.search(r"test accuracy (\d\.\d+)", out).group(1)) > 0.8, out
    assert save.stat().st_size > 0


def test_readme_python_section_runs(dev, tmp_path):
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text[text.index("\n## Python"):]
    section = section[:section.index("\n## ", 5)]
    code = re.findall(r"```python\n(.*?)```", section, re.S)
    assert code, "the README's Python section has no python block"
    script = tmp_path / "readme.py"
    # the README's loop, with the first loss recorded, so that the run shows it trains
    script.write_text(code[0].replace("for _ in range(100):", "first = None\nfor _ in range(100):").replace(
        "    opt.zero_grad(); loss.backward(); opt.step()",
        "    opt.zero_grad(); loss.backward(); opt.step()\n    first = first or loss.item()") +
        "\nprint('FIRST', first, 'LAST', loss.item())\n")
    out = run([str(script)], tmp_path, dev)
    first, last = map(float, re.search(r"FIRST (\S+) LAST (\S+)", out).groups())
    assert last < first
    assert (tmp_path / "mlp.safetensors").exists()
