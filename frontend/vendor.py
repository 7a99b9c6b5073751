"""Copy the front-end libraries that npm installed (frontend/node_modules, from the registry
at install time) into the web app's static folder. Nothing here is fetched at run time."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULES = HERE / "node_modules"
VENDOR = HERE.parent / "src" / "svidok" / "web" / "static" / "vendor"

# (package, file inside it, where it goes under vendor/)
FILES = [
    ("htmx.org", "dist/htmx.min.js", "htmx.min.js"),
    ("htmx.org", "LICENSE", "htmx.LICENSE"),
    ("leaflet", "dist/leaflet.js", "leaflet/leaflet.js"),
    ("leaflet", "dist/leaflet.css", "leaflet/leaflet.css"),
    ("leaflet", "dist/images/marker-icon.png", "leaflet/images/marker-icon.png"),
    ("leaflet", "dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"),
    ("leaflet", "dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"),
    ("leaflet", "dist/images/layers.png", "leaflet/images/layers.png"),
    ("leaflet", "LICENSE", "leaflet/LICENSE"),
    ("topojson-client", "dist/topojson-client.min.js", "topojson-client.min.js"),
    ("topojson-client", "LICENSE", "topojson-client.LICENSE"),
    ("tus-js-client", "dist/tus.min.js", "tus.min.js"),
    ("tus-js-client", "LICENSE", "tus.LICENSE"),
    ("world-atlas", "countries-50m.json", "countries-50m.json"),
    ("world-atlas", "LICENSE", "world-atlas.LICENSE"),
]


def main() -> int:
    missing = [f"{pkg}/{name}" for pkg, name, _ in FILES if not (MODULES / pkg / name).is_file()]
    if missing:
        print("frontend: run `npm ci` in frontend/ first; missing: " + ", ".join(missing))
        return 1
    for pkg, name, target in FILES:
        out = VENDOR / target
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(MODULES / pkg / name, out)
    (VENDOR / ".complete").write_text("copied by frontend/vendor.py\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
