"""A TLS HTTP server on loopback for the collector's inventory client (certificates: :mod:`tests.certs`)."""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.certs import Authority, Issued


class TlsHttpServer:
    """A threading HTTP/1.1 server on 127.0.0.1 with TLS; ``client_ca`` requires a client certificate."""

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], server: Issued, client_ca: Authority | None = None
    ) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(server.cert_file, server.key_file)
        if client_ca is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(client_ca.cert_file)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler, bind_and_activate=True)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
