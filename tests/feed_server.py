"""A local RSS/Atom server on 127.0.0.1 for the feed tests, and a URL nobody listens on."""

from __future__ import annotations

import asyncio

from aiohttp import web

from tests.http_server import LocalHttpServer, Served, free_port

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
  <title>Kabar Kota &amp; Sekitarnya</title>
  <link>http://127.0.0.1/</link>
  <description>Berita lokal</description>
  <item>
    <title>Banjir rendam rumah di Kampung Melayu</title>
    <link>http://127.0.0.1/berita/banjir-kampung-melayu</link>
    <guid>kabar-kota-1001</guid>
    <pubDate>Mon, 06 Jan 2025 06:30:00 +0700</pubDate>
    <description><![CDATA[<p>JAKARTA - Banjir setinggi 1,5 meter merendam <b>314 rumah</b> di Kampung Melayu, Jakarta Timur, pada Senin pagi.</p><p>Petugas mengevakuasi 120 warga ke masjid terdekat.</p><script>alert("x")</script>]]></description>
  </item>
  <item>
    <title>Festival kuliner digelar di Lapangan Banteng</title>
    <link>http://127.0.0.1/berita/festival-kuliner</link>
    <guid>kabar-kota-1002</guid>
    <pubDate>Sun, 05 Jan 2025 20:00:00 +0700</pubDate>
    <description>Ringkasan singkat.</description>
    <content:encoded><![CDATA[<div><p>Festival kuliner Nusantara digelar di Lapangan Banteng selama tiga hari.</p><ul><li>Panitia menghadirkan 85 pedagang kaki lima dari berbagai daerah.</li></ul></div>]]></content:encoded>
  </item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Warta Daerah</title>
  <id>urn:warta-daerah</id>
  <updated>2025-01-06T08:00:00Z</updated>
  <entry>
    <title>Jembatan gantung baru diresmikan di Desa Sukamaju</title>
    <id>urn:warta-daerah:77</id>
    <link href="http://127.0.0.1/warta/77"/>
    <updated>2025-01-06T23:30:00+07:00</updated>
    <content type="html">&lt;p&gt;Bupati meresmikan jembatan gantung sepanjang 62 meter di Desa Sukamaju.&lt;/p&gt;</content>
  </entry>
</feed>
"""


class FeedServer(Served):
    """Serves ``/rss.xml``, ``/atom.xml`` (bodies may be changed), ``/missing`` (404), ``/slow``."""

    def __init__(self) -> None:
        self.rss = RSS
        self.atom = ATOM
        self.slow_seconds = 5.0
        self.requests: list[str] = []
        app = web.Application()
        app.router.add_get("/rss.xml", self._rss)
        app.router.add_get("/atom.xml", self._atom)
        app.router.add_get("/slow", self._slow)
        app.router.add_get("/page.html", self._page)
        self._http = LocalHttpServer(app)

    @property
    def port(self) -> int:
        return self._http.port

    def url(self, path: str) -> str:
        """The URL of a path on this server."""
        return self._http.url(path)

    async def start(self) -> None:
        await self._http.start()

    async def stop(self) -> None:
        await self._http.stop()

    async def _rss(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.Response(text=self.rss, content_type="application/rss+xml")

    async def _atom(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.Response(text=self.atom, content_type="application/atom+xml")

    async def _slow(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        await asyncio.sleep(self.slow_seconds)
        return web.Response(text=self.rss, content_type="application/rss+xml")

    async def _page(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.Response(text="<html><body>not a feed</body></html>", content_type="text/html")


def closed_port_url() -> str:
    """A feed URL on a local port nobody listens on (connection refused)."""
    return f"http://127.0.0.1:{free_port()}/feed.xml"
