"""The visitor's path to a native renderer, end to end, in a child process (an abort here would
take the whole Streamlit server down; in a child it fails one test).

Uploads an IPD file whose name, ids, regimens and agents hold control and non-characters, names
the cohort with them in the "Name of this cohort" box, uses it as this cohort, groups the KM
curves by regimen, then on every page runs every PNG/SVG download (the deferred callables the
buttons would run on a click) and builds the evidence summary's Word and HTML files. Prints one
JSON line: what was exported, and any unrenderable code point found in an output.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(HERE)]

import pandas as pd  # noqa: E402
from render_cases import FORBIDDEN, unrenderable_left  # noqa: E402
from streamlit.runtime.media_file_manager import MediaFileManager  # noqa: E402
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

PAGES = ["views/home.py", "views/cohort.py", "views/catalog.py", "views/benchmark.py",
         "views/across.py", "views/summary.py", "views/whatif.py", "views/planning.py",
         "views/survival.py", "views/audit.py"]
#: What a UTF-8 CSV cell can carry: no surrogate (not encodable), and no NUL (the reader takes a
#: NUL near the start for a binary file), no CR/LF/tab (allowed anyway).
CELL_CHARS = [chr(c) for c in FORBIDDEN if not (0xD800 <= c < 0xE000) and c != 0]
#: What a file name can carry: no surrogate (protobuf strings are UTF-8), no NUL (Streamlit
#: itself refuses the upload).
NAME_CHARS = [chr(c) for c in FORBIDDEN if not (0xD800 <= c < 0xE000) and c != 0]
C0 = "".join(chr(c) for c in range(0x20) if c not in (9, 10, 13))
FILE_NAME = "Xe\x01non" + "".join(NAME_CHARS) + ".csv"
LABEL = ("Ze" + C0 + "bra\ufffe\uffff")[:60]  # the box holds 60 characters


def hostile_csv() -> bytes:
    valid = pd.read_csv(ROOT / "tests" / "fixtures" / "ipd" / "valid.csv", dtype=str)
    rows = 12
    df = pd.concat([valid] * (rows // len(valid)), ignore_index=True)
    size = -(-len(CELL_CHARS) // rows)
    part = ["".join(CELL_CHARS[i * size:(i + 1) * size]) for i in range(rows)]
    df["id"] = [f"Id{i:02d}" + part[i] for i in range(rows)]
    df["regimen"] = [f"Reg{i % 3}\x01" + part[(i + 1) % rows] for i in range(rows)]
    df["ai_agent"] = [f"Ai{i % 2}\x02" + part[(i + 2) % rows] for i in range(rows)]
    df["ici_agent"] = [f"Ici{i % 2}\x03" + part[(i + 3) % rows] for i in range(rows)]
    return df.to_csv(index=False).encode("utf-8")


#: Every file a download button registered: file id -> (bytes or the deferred callable, name).
#: AppTest makes a new media manager per run and drops it, so the files are recorded here.
FILES: dict[str, tuple[object, str | None]] = {}


def _record() -> None:
    add_deferred, load = MediaFileManager.add_deferred, MemoryMediaFileStorage.load_and_get_id

    def deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        file_id = add_deferred(self, data_callable, mimetype, coordinates, file_name, **kw)
        FILES[file_id] = (data_callable, file_name)
        return file_id

    def stored(self, path_or_data, mimetype, kind, filename=None):
        file_id = load(self, path_or_data, mimetype, kind, filename)
        FILES[file_id] = (path_or_data, filename)
        return file_id

    MediaFileManager.add_deferred = deferred  # type: ignore[method-assign]
    MemoryMediaFileStorage.load_and_get_id = stored  # type: ignore[method-assign]


def text_of(name: str, data: bytes) -> str:
    if name.endswith(".docx"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    return data.decode("utf-8", "replace") if not name.endswith(".png") else ""


def main() -> dict:
    _record()
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("views/survival.py")
    at.run()
    at.file_uploader[0].upload(FILE_NAME, hostile_csv(), "text/csv").run()
    errors = [e.value for e in at.error]
    at.text_input(key="upload_label").set_value(LABEL).run()
    at.selectbox(key="km_group").set_value("regimen").run()
    label = at.session_state["this_cohort_upload"].label
    exported: dict[str, int] = {}
    left: dict[str, list[str]] = {}
    for page in PAGES:
        at.switch_page(page)
        at.run()
        if page == "views/summary.py":
            at.button(key="summary_prepare").click().run()
        assert not at.exception, (page, [e.value for e in at.exception])
        for button in at.get("download_button"):
            proto = button.proto
            if proto.HasField("deferred_file_id"):
                make, name = FILES[proto.deferred_file_id]
                data = make()  # type: ignore[operator]  # what a click runs
            else:
                data, name = FILES[proto.url.rsplit("/", 1)[-1].split(".")[0]]
            name = name or ""
            if not name.endswith((".png", ".svg", ".docx", ".html", ".md")):
                continue
            data = data.encode() if isinstance(data, str) else data
            key = f"{page}:{proto.id.rsplit('-', 1)[-1]}"
            exported[key] = len(data)
            found = unrenderable_left(text_of(name, data))
            if found:
                left[key] = found
    return {"label": label, "errors": errors, "exported": exported, "left": left}


if __name__ == "__main__":
    print(json.dumps(main()))
