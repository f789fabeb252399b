"""Executes a notebook headless with nbclient and writes it back with its outputs.

usage: execute_notebook.py NOTEBOOK OUTPUT WORKDIR
The kernel comes from the notebook's metadata (kernelspec.name), found on JUPYTER_PATH, and runs in WORKDIR.
Exit status 1 when a cell fails (its error is printed; OUTPUT holds the cells run so far) or when the kernel does
not start answering within READY_TIMEOUT seconds.
"""
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

READY_TIMEOUT = 120
CELL_TIMEOUT = 600


def main(notebook, output, workdir):
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, startup_timeout=READY_TIMEOUT,
                            resources={"metadata": {"path": workdir}})
    try:
        client.execute()
    except CellExecutionError as error:
        nbformat.write(nb, output)
        print(error, file=sys.stderr)
        return 1
    except RuntimeError as error:
        print("the kernel did not start: %s" % error, file=sys.stderr)
        return 1
    nbformat.write(nb, output)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
