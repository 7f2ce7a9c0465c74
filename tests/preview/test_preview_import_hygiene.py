"""The preview service is usable without Textual (DESIGN.md: the core layers do not import it)."""

import json
import subprocess
import sys


def test_preview_package_does_not_import_textual() -> None:
    code = (
        "import json, sys\n"
        "import instructor_tui.preview, instructor_tui.preview.worker\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'instructor_tui'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    modules = json.loads(out)
    assert not [m for m in modules if m.startswith("textual")]
    assert not [m for m in modules if m.startswith(("instructor_tui.ui", "instructor_tui.demo"))]
    assert "instructor_tui.preview.render" in modules
