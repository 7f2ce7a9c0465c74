"""The core layers must not import Textual (DESIGN.md): checked in a clean interpreter."""

import json
import subprocess
import sys


def test_core_layers_do_not_import_textual():
    code = (
        "import importlib, json, pkgutil, sys\n"
        "import instructor_tui.domain, instructor_tui.store, instructor_tui.portal\n"
        "for pkg in (instructor_tui.domain, instructor_tui.store, instructor_tui.portal):\n"
        "    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'instructor_tui'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    modules = json.loads(out)
    assert not [m for m in modules if m.startswith("textual")]
    assert not [m for m in modules if m.startswith(("instructor_tui.ui", "instructor_tui.demo"))]
    assert "instructor_tui.domain.states" in modules
