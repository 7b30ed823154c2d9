"""TEST DOUBLE of masa-node's HTTP API, for tests only; the playbooks never deploy it.

masa-node (github.com/masa-finance/masa-oracle) cannot be built from the project's files: the Go
module proxy does not serve its module. This stand-in answers the routes the analytics sidecar
reads with the shapes recorded from a real v0.8.9 node (built from the repository's v0.8.9 tag and
run offline, API_ENABLED=true): field names, types, omitted zeros, status codes and messages.
Like the real node, /api/v1/peers and /api/v1/peer/addresses list the node itself too. It has no
/status page: v0.8.9 exits when /status is served without TWITTER_ACCOUNTS, and nothing reads it.
Its uptime grows with time; its peer id, protocol version and peers come from the command line,
or, where the oracle_node role runs it in place of masa-node's image (molecule), from the
environment: PORT as masa-node reads it, MASA_NODE_DOUBLE_ADDRESS for its address, and a peer id
derived from that address.

    python tests/masa_node_double.py --port 8080 --peer-id 16Uiu2HAm... --peers 2 --version v0.8.4
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Tuple


class NodeDouble:
    def __init__(self, peer_id: str, peers: int, version: str, eth_address: str, address: str):
        self.peer_id = peer_id
        self.address = address
        self.peers = peers
        self.version = version
        self.eth_address = eth_address
        self.started = time.time()
        self.joined = int(self.started)

    def node_data(self) -> Dict[str, Any]:
        uptime = int((time.time() - self.started) * 1e9)
        address = f"/ip4/{self.address}/udp/4001/quic-v1/p2p/{self.peer_id}"
        return {"multiaddrs": [address], "multiaddrsString": address, "peerId": self.peer_id,
                "firstJoined": self.joined, "lastJoined": self.joined, "lastUpdated": self.joined,
                "uptime": uptime, "uptimeStr": "0 minutes", "accumulatedUptime": uptime,
                "accumulatedUptimeStr": "0 minutes", "ethAddress": self.eth_address, "isActive": True,
                "isStaked": True, "isValidator": True, "isTwitterScraper": False, "isDiscordScraper": False,
                "isTelegramScraper": False, "isWebScraper": False, "version": self.version,
                "workerTimeout": "0001-01-01T00:00:00Z", "returnedTweets": 0, "lastReturnedTweet": "0001-01-01T00:00:00Z",
                "tweetTimeout": False, "tweetTimeouts": 0, "lastTweetTimeout": "0001-01-01T00:00:00Z",
                "lastNotFoundTime": "0001-01-01T00:00:00Z", "notFoundCount": 0}

    def answer(self, path: str) -> Tuple[int, str, str]:
        route = path.split("?", 1)[0]
        if route == "/health":
            return 200, "application/json; charset=utf-8", json.dumps({"success": True})
        if route == "/auth":
            return 200, "application/json; charset=utf-8", json.dumps({"message": "test-double-jwt", "success": True})
        if route in ("/api/v1/peers", "/api/v1/peer/addresses"):
            tracked = [(self.peer_id, self.address)] + [
                (f"{self.peer_id}-peer{i}", f"198.51.100.{i}") for i in range(1, self.peers + 1)]
            data = [{"peerId": peer, "peerAddress": f"/ip4/{address}/udp/4001/quic-v1/p2p/{peer}"}
                    if route.endswith("addresses") else {"peerId": peer} for peer, address in tracked]
            return 200, "application/json; charset=utf-8", json.dumps(
                {"data": data, "success": True, "totalCount": len(data)})
        if route == "/api/v1/node/data":
            return 200, "application/json; charset=utf-8", json.dumps(
                {"data": [self.node_data()], "pageNbr": 0, "success": True, "total": 1, "totalRecords": 1})
        if route.startswith("/api/v1/node/data/"):
            if route.rsplit("/", 1)[1] == self.peer_id:
                return 200, "application/json; charset=utf-8", json.dumps({"data": self.node_data(), "success": True})
            return 404, "application/json; charset=utf-8", json.dumps({"message": "Node not found", "success": False})
        return 404, "text/plain", "404 page not found"


def derived_peer_id(address: str) -> str:
    """A stable peer id per address, shaped like libp2p's secp256k1 ids (16Uiu2HAm + 44 base58)."""
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    digest = hashlib.sha256(address.encode()).digest()
    return "16Uiu2HAm" + "".join(alphabet[byte % 58] for byte in digest + digest[:12])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    address = os.environ.get("MASA_NODE_DOUBLE_ADDRESS", "127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--peer-id", default=derived_peer_id(address))
    parser.add_argument("--peers", type=int, default=int(os.environ.get("MASA_NODE_DOUBLE_PEERS", "2")),
                        help="other nodes it tracks (its peer lists add itself)")
    parser.add_argument("--address", default=address, help="the IPv4 address in its multiaddrs")
    parser.add_argument("--version", default="v0.8.4", help="the protocol version in node data")
    parser.add_argument("--eth-address", default="0x0000000000000000000000000000000000000001")
    args = parser.parse_args()
    node = NodeDouble(args.peer_id, args.peers, args.version, args.eth_address, args.address)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            status, content_type, text = node.answer(self.path)
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args):
            pass

    ThreadingHTTPServer(("0.0.0.0", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
