"""A scraped device's next poll is rendered on the polling thread (issue 10.8): the serving thread, which
shares the GIL, then only writes cached bytes, so a health check on it never waits behind a render."""

from __future__ import annotations

import asyncio
import gzip

from prometheus_client import CollectorRegistry

from collectors import __main__ as collector_main
from collectors.mibmodules import load_modules
from collectors.poller import Poller
from collectors.snmp import SnmpClient
from collectors.store import SampleStore
from exporters import exposition
from exporters.http import serve
from tests.collectors.conftest import sim_target
from tests.exporters.test_http import get


def test_a_scraped_devices_next_poll_is_rendered_before_its_scrape(sim, tmp_path, monkeypatch) -> None:
    args = collector_main.parse_args(["--targets-file", str(tmp_path / "targets.yaml")])
    collector = collector_main.Collector(args, None)
    collector.pysnmp.close()
    assert collector.poller.render is exposition.prerender  # wired by python -m collectors

    target = sim_target(sim["switch"])
    store = SampleStore()

    async def poll_twice_with_a_scrape_between(scrape) -> None:
        client = SnmpClient(bind6=None)
        await client.start()
        poller = Poller(
            modules=load_modules(), store=store, wire=client, pysnmp=None, render=collector.poller.render
        )
        try:
            assert (await poller.poll(target)).up
            assert store.get(target.name).rendered == {}  # never scraped: rendered on demand only
            await asyncio.to_thread(scrape)
            assert (await poller.poll(target)).up
        finally:
            await client.close()

    serving = serve(store, CollectorRegistry(), "127.0.0.1:0", lambda: True)
    try:
        path = f"/snmp?target={target.name}"
        first: list[bytes] = []
        asyncio.run(poll_twice_with_a_scrape_between(lambda: first.append(get(serving.url, path)[2])))
        assert b"\nifHCInOctets{" in first[0]
        entry = store.get(target.name)
        assert set(entry.rendered) == {"text:gzip"}  # the body Prometheus scrapes, before its scrape

        def no_render(*_args):
            raise AssertionError("a scrape of a rendered poll rendered it again")

        monkeypatch.setattr(exposition, "_render_target", no_render)
        status, headers, body = get(serving.url, path, {"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert body == entry.rendered["text:gzip"] and b"\nifHCInOctets{" in gzip.decompress(body)
    finally:
        serving.stop()
