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


def start_kernel(client, attempts):
    """Start the kernel and wait until it answers; None when it does, else why it did not.

    Starting the kernel is not what a notebook run checks, so a start that times out (a loaded
    machine) is tried again. nbclient on its own would start it inside execute() and, when the
    wait times out, fail with an AssertionError from its cleanup that hides the reason.
    """
    reasons = []
    for _ in range(attempts):
        t0 = time.time()
        try:
            client.km = client.create_kernel_manager()
            client.start_new_kernel()
            client.start_new_kernel_client()  # on failure it shuts the kernel down itself
            return None
        except Exception as e:  # a timeout (RuntimeError), a kernel that exited, a bad kernelspec
            reasons.append('%s after %.0f s' % (str(e).splitlines()[0] if str(e) else type(e).__name__, time.time() - t0))
            if client.km is not None:
                try:
                    client._cleanup_kernel()
                except Exception:
                    pass
            client.km = None
            client.kc = None
    return 'the kernel %r did not start (%d tries): %s' % (client.kernel_name, attempts, '; '.join(reasons))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('notebook')
    ap.add_argument('--out', required=True, help='where to write the executed notebook')
    ap.add_argument('--html', help='also export an HTML page here')
    ap.add_argument('--kernel', default='deepfake-lab')
    ap.add_argument('--timeout', type=int, default=1800, help='seconds per cell')
    ap.add_argument('--startup-timeout', type=int, default=180,
                    help='seconds to wait for the kernel to answer (nbclient waits 60; a CI run '
                         'with both cores busy once took longer)')
    ap.add_argument('--start-attempts', type=int, default=2, help='kernel starts before giving up')
    args = ap.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    failed = {}

    def on_cell_error(cell, cell_index, execute_reply):
        failed.setdefault('index', cell_index)

    client = NotebookClient(nb, kernel_name=args.kernel, timeout=args.timeout,
                            startup_timeout=args.startup_timeout,
                            on_cell_error=on_cell_error,
                            resources={'metadata': {'path': os.path.dirname(os.path.abspath(args.notebook))}})
    start = time.time()
    result = {'ok': True}
    why_not = start_kernel(client, args.start_attempts)
    if why_not:  # no cell ran: the copy written below is the notebook as it was
        result = {'ok': False, 'cell': -1, 'error': why_not}
    else:
        try:
            client.execute()  # uses the kernel started above, and shuts it down at the end
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
