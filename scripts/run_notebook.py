#!/usr/bin/python3
"""Execute a notebook on the project's Jupyter kernel through nbclient (a real Jupyter client).

Writes the executed copy (and optionally an HTML page), then prints one JSON line on stdout:
{"ok": true, "cells": N, "seconds": S} or {"ok": false, "cell": i, "error": "..."}.
Exit status 0 when every cell ran, 1 when a cell failed, 2 for bad usage.
Runs under Debian's /usr/bin/python3, which has Jupyter (see scripts/setup.sh).
"""
import argparse
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def write_atomic(path, text):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)


def cell_error_text(cell):
    """What the kernel said when the cell failed: tslab reports errors on stderr."""
    parts = []
    for out in cell.get('outputs', []):
        if out.get('output_type') == 'error':
            parts.append('%s: %s' % (out.get('ename', ''), out.get('evalue', '')))
        elif out.get('output_type') == 'stream' and out.get('name') == 'stderr':
            parts.append(out.get('text', ''))
    text = '\n'.join(p.strip() for p in parts if p.strip())
    return text or 'the cell failed without a message'


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('notebook')
    ap.add_argument('--out', required=True, help='where to write the executed notebook')
    ap.add_argument('--html', help='also export an HTML page here')
    ap.add_argument('--kernel', default='deepfake-lab')
    ap.add_argument('--timeout', type=int, default=1800, help='seconds per cell')
    args = ap.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    failed = {}

    def on_cell_error(cell, cell_index, execute_reply):
        failed.setdefault('index', cell_index)

    client = NotebookClient(nb, kernel_name=args.kernel, timeout=args.timeout,
                            on_cell_error=on_cell_error,
                            resources={'metadata': {'path': os.path.dirname(os.path.abspath(args.notebook))}})
    start = time.time()
    result = {'ok': True}
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
        index = failed.get('index')
        if index is None:  # a timeout or a dead kernel: the first cell without a reply
            index = next((i for i, c in enumerate(nb.cells) if c.cell_type == 'code' and c.get('execution_count') is None), -1)
        message = cell_error_text(nb.cells[index]) if index >= 0 and not isinstance(e, (CellTimeoutError, DeadKernelError)) else str(e).splitlines()[0]
        result = {'ok': False, 'cell': index, 'error': message}
    result['seconds'] = round(time.time() - start, 1)
    result['cells'] = len(nb.cells)

    # Sign the executed copy: Jupyter only runs the outputs' scripts (charts) of trusted notebooks.
    try:
        from nbformat.sign import NotebookNotary
        NotebookNotary().sign(nb)
    except Exception:  # no writable Jupyter data dir: the copy stays untrusted, still readable
        pass
    write_atomic(args.out, nbformat.writes(nb))
    if args.html:
        from nbconvert import HTMLExporter
        body, _ = HTMLExporter().from_notebook_node(nb)
        write_atomic(args.html, body)
    print(json.dumps(result))
    return 0 if result['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
