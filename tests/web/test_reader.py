"""The page reader keeps a store connection only briefly: a writer in another process gets in
while pages are being read without pause, and the reader sees what the writer wrote."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

from ashyq.store.store import Store
from ashyq.web.reader import StoreReader

WRITER = """
import sys, time
from ashyq.store.store import Store
t0 = time.monotonic()
with Store.open(sys.argv[1], lock_timeout=30).connect(write=True) as con:
    con.execute("INSERT OR REPLACE INTO meta VALUES ('web_reader_test', 'written')")
print(f"{time.monotonic() - t0:.2f}")
"""


def test_writer_gets_in_while_pages_are_read(tmp_path):
    store = Store.open(tmp_path, read_only=True)
    reader = StoreReader(store, hold=0.5, idle=0.2)

    async def scenario() -> tuple[float, str | None, int]:
        done = False
        reads = 0

        async def pages() -> None:
            nonlocal reads
            while not done:
                await reader.run(lambda con: con.execute("SELECT count(*) FROM events").fetchall())
                reads += 1

        task = asyncio.create_task(pages())
        await asyncio.sleep(0.3)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", WRITER, str(tmp_path), stdout=subprocess.PIPE
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        waited = float(out.decode().strip().splitlines()[-1])
        await asyncio.sleep(0.8)  # the reader's connection is renewed after `hold`
        value = await reader.run(
            lambda con: con.execute(
                "SELECT value FROM meta WHERE key = 'web_reader_test'"
            ).fetchone()
        )
        done = True
        await task
        return waited, value[0] if value else None, reads

    start = time.monotonic()
    waited, value, reads = asyncio.run(scenario())
    reader.shutdown()
    assert value == "written"
    assert reads > 5
    assert waited < 15, f"the writer waited {waited} s"
    assert time.monotonic() - start < 60


HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_busy_store_gives_a_clear_503(tmp_path):
    import aiohttp

    from ashyq.web.app import Config

    from .conftest import ServerThread

    Store.open(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "store.lock"), "8"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        store = Store(tmp_path, read_only=True, lock_timeout=0.5)
        thread = ServerThread(Config(data_dir=tmp_path, admin_password=None))
        thread.store = store
        server = thread.start()
        try:

            async def get() -> tuple[int, str]:
                async with aiohttp.ClientSession() as s, s.get(server.url + "/events") as r:
                    return r.status, await r.text()

            status, text = asyncio.run(get())
        finally:
            thread.stop()
    finally:
        holder.kill()
        holder.wait()
    assert status == 503
    assert "busy" in text
