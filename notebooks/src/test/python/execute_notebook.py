"""Executes a notebook headless with nbclient and writes it back with its outputs.

usage: execute_notebook.py NOTEBOOK OUTPUT WORKDIR
The kernel comes from the notebook's metadata (kernelspec.name), found on JUPYTER_PATH, and runs in WORKDIR.
Exit status 1 when a cell fails (its error is printed; OUTPUT holds the cells run so far) or when no kernel
start of ATTEMPTS answered.
"""
import asyncio
import atexit
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

LISTEN = "0A"
ATTEMPTS = 3
LISTEN_TIMEOUT = 180
READY_TIMEOUT = 20
CELL_TIMEOUT = 600


def listening_ports():
    """The local TCP ports in LISTEN state (Linux /proc)."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == LISTEN:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


class KernelStartError(RuntimeError):
    """The kernel did not come up answering requests."""


class BoundKernelClient(NotebookClient):
    """Connects only once the kernel listens on all its ports, and gives up on a kernel that does not answer.

    rapaio-jupyter-kernel 3.0.1 sometimes starts without its shell-channel thread (seen with jstack), and then never
    answers: in half of the starts on a loaded 2-core machine when the client connected at once, as nbclient does,
    in about one in ten when it connected a second after the kernel listened. A kernel that answers does so within
    a few seconds of listening, so READY_TIMEOUT is short and main() starts another kernel.
    """

    async def async_start_new_kernel(self, **kwargs):
        await super().async_start_new_kernel(**kwargs)
        km = self.km
        ports = {km.shell_port, km.iopub_port, km.stdin_port, km.control_port, km.hb_port}
        deadline = time.monotonic() + LISTEN_TIMEOUT
        while not ports <= listening_ports():
            if not await km.is_alive():
                raise KernelStartError("the kernel exited before listening on its ports")
            if time.monotonic() > deadline:
                await self._async_cleanup_kernel()
                raise KernelStartError("the kernel did not listen on its ports in %d s" % LISTEN_TIMEOUT)
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)

    async def async_start_new_kernel_client(self):
        try:
            return await super().async_start_new_kernel_client()
        except RuntimeError as error:
            # nbclient has shut the kernel down; its exit hook has nothing left to clean.
            atexit.unregister(self._cleanup_kernel)
            raise KernelStartError(str(error)) from error


def main(notebook, output, workdir):
    for attempt in range(1, ATTEMPTS + 1):
        nb = nbformat.read(notebook, as_version=4)
        client = BoundKernelClient(nb, timeout=CELL_TIMEOUT, startup_timeout=READY_TIMEOUT,
                                   resources={"metadata": {"path": workdir}})
        try:
            client.execute()
            nbformat.write(nb, output)
            return 0
        except KernelStartError as error:
            print("kernel start %d of %d failed: %s" % (attempt, ATTEMPTS, error), file=sys.stderr)
        except CellExecutionError as error:
            nbformat.write(nb, output)
            print(error, file=sys.stderr)
            return 1
    return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
