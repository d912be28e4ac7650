"""Run by Debian's /usr/bin/python3 (which has LibreOffice's UNO bridge, python3-uno), not by
the project's virtualenv: connect to a listening ``soffice --headless`` and convert one HTML
file to PDF ``runs`` times after one warm-up conversion; print the seconds of each as JSON.

    python3 bench/office_convert.py PORT FILE.html RUNS
"""

import contextlib
import json
import sys
import time
from pathlib import Path

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    item = PropertyValue()
    item.Name = name
    item.Value = value
    return item


def connect(port: int):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            context = resolver.resolve(
                f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"
            )
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)
    return context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)


def convert(desktop, source: Path, target: Path) -> None:
    document = desktop.loadComponentFromURL(source.as_uri(), "_blank", 0, (prop("Hidden", True),))
    try:
        document.storeToURL(target.as_uri(), (prop("FilterName", "writer_web_pdf_Export"),))
    finally:
        document.close(True)


def main() -> None:
    port, source, runs = int(sys.argv[1]), Path(sys.argv[2]).resolve(), int(sys.argv[3])
    target = source.with_suffix(".pdf")
    desktop = connect(port)
    convert(desktop, source, target)  # warm-up: the filters loaded, the fonts read
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        convert(desktop, source, target)
        seconds.append(time.perf_counter() - started)
    if target.stat().st_size == 0:
        raise SystemExit("LibreOffice wrote an empty PDF")
    print(json.dumps(seconds))
    # The office closes the bridge as it quits, which the call reports as an error.
    with contextlib.suppress(Exception):
        desktop.terminate()


if __name__ == "__main__":
    main()
