# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A caching, thread-safe dnspython lookup for the mail DNS checks.

Turns every answer and error into an ``Answer`` with a status the checks understand, so
that SERVFAIL, REFUSED, timeouts and NXDOMAIN are told apart and none is ever a pass.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

try:
    import dns.exception
    import dns.rcode
    import dns.resolver

    HAS_DNSPYTHON = True
except ImportError:  # reported by the module with a plain message
    HAS_DNSPYTHON = False

from ansible_collections.mailops.mailhost.plugins.module_utils._dns_answer import Answer


def _text(rdtype: str, rdata) -> str:
    if rdtype == "TXT":
        return b"".join(rdata.strings).decode("utf-8", "replace")
    if rdtype == "MX":
        return f"{rdata.preference} {rdata.exchange.to_text()}"
    if rdtype in ("PTR", "CNAME"):
        return rdata.target.to_text()
    return rdata.to_text()


class DnsLookup:
    """``lookup(name, rdtype) -> Answer`` against the given servers (or the system resolver)."""

    def __init__(self, nameservers=None, port: int = 53, timeout: float = 3.0, retries: int = 1):
        if not HAS_DNSPYTHON:
            raise RuntimeError("dnspython is not installed")
        self.resolver = dns.resolver.Resolver(configure=not nameservers)
        if nameservers:
            self.resolver.nameservers = list(nameservers)
        self.resolver.port = port
        self.resolver.timeout = timeout
        self.resolver.lifetime = timeout * (retries + 1)
        self.resolver.retry_servfail = False
        self._cache: dict[tuple[str, str], Answer] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str, rdtype: str) -> Answer:
        key = (name.rstrip(".").lower(), rdtype)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        answer = self._query(key[0] + ".", rdtype)
        with self._lock:
            self._cache[key] = answer
        return answer

    def _query(self, name: str, rdtype: str) -> Answer:
        try:
            response = self.resolver.resolve(name, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return Answer("nxdomain")
        except dns.resolver.NoNameservers as exc:
            text = str(exc)
            return Answer("refused" if "REFUSED" in text else "servfail", detail=text)
        except (dns.resolver.LifetimeTimeout, dns.exception.Timeout) as exc:
            return Answer("timeout", detail=str(exc))
        except dns.exception.DNSException as exc:
            return Answer("error", detail=str(exc))
        if response.rrset is None:
            return Answer("nodata")
        return Answer("ok", [_text(rdtype, r) for r in response.rrset])

    def prefetch(self, queries, workers: int = 16) -> None:
        """Resolve many (name, rdtype) pairs concurrently into the cache."""
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda q: self(*q), queries))
