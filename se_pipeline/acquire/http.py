"""The one shared HTTP client (a Dagster resource) with the politeness and safety rules.

Every network fetch goes through `HttpClient.get`, so the rules live in one place:

* explicit (connect, read) timeouts, and the source's total time budget: a wall-clock
  deadline over robots.txt, every attempt and the body read (read in small pieces with
  the deadline checked between them, so a body dripping one byte a second ends there);
* one retry layer, declared with tenacity: exponential backoff with full jitter on 5xx,
  408/429, timeouts and dropped connections; `Retry-After` honoured on 429/503 but
  capped, so a server cannot park us; no retry that would end past the deadline;
* a streamed download with a byte cap (decompressed bytes, so a gzip bomb is caught too);
* redirects followed by hand (at most 5), every hop re-checked against the source's host
  allowlist and the address rules (no loopback/private/link-local/reserved addresses
  unless opted in), so a redirect cannot smuggle us onto an internal service;
* https only unless `allow_http`; robots.txt read once per origin and obeyed (RFC 9309);
* one `requests.Session` reused for connection pooling.

Known limit: addresses are checked with `getaddrinfo` before each attempt, and
`requests` resolves again when connecting, so a DNS-rebinding attacker with a very short
TTL could in principle race the check. Sources are allowlisted hosts, which bounds this.
"""
from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Mapping
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import dagster as dg
import requests
from pydantic import NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, PrivateAttr
from requests.structures import CaseInsensitiveDict
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError

from se_pipeline import __version__
from se_pipeline.acquire.errors import (
    AcquireError,
    ConnectionFailed,
    ContentMismatch,
    DisallowedUrl,
    FetchTimeout,
    HttpStatusError,
    ManualExportOnly,
    RobotsDisallowed,
    TooLarge,
)
from se_pipeline.acquire.policy import SourcePolicy

DEFAULT_USER_AGENT = f"se-pipeline/{__version__} (+https://w3id.org/se-pipeline/)"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least the first 500 KiB
CHUNK_BYTES = 64 * 1024
_SENSITIVE_HEADERS = ("authorization", "cookie", "proxy-authorization")


@dataclass
class HttpResult:
    """What `HttpClient.get` returns: the parts of a `requests.Response` callers need,
    with the body already read (and capped). `url` is the final URL after redirects."""

    url: str
    status_code: int
    headers: CaseInsensitiveDict = field(default_factory=CaseInsensitiveDict)
    content: bytes = b""
    requested_url: str = ""
    history: list[str] = field(default_factory=list)
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 400


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def address_refusal(address: str) -> str | None:
    """Why an IP address must not be fetched from ('loopback', 'private', …), or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for attribute, name in (("is_loopback", "loopback"), ("is_link_local", "link-local"),
                            ("is_private", "private"), ("is_multicast", "multicast"),
                            ("is_reserved", "reserved"), ("is_unspecified", "unspecified")):
        if getattr(ip, attribute):
            return name
    return None if ip.is_global else "non-global"


class HttpClient(dg.ConfigurableResource):
    """Shared HTTP resource. Configuration is plain fields, the one declaration of the
    `http:` keys of the run config (`settings.HttpOptions` is made from them); test hooks
    (`sleep`, `clock`, `resolve`) are private attributes set with `with_hooks`, so they
    never appear in Dagster config."""

    connect_timeout_s: PositiveFloat = 5.0
    read_timeout_s: PositiveFloat = 30.0
    max_retries: NonNegativeInt = 4
    backoff_base_s: NonNegativeFloat = 0.5
    backoff_max_s: NonNegativeFloat = 30.0
    retry_after_cap_s: NonNegativeFloat = 60.0
    max_bytes: PositiveInt = 200_000_000
    user_agent: str = DEFAULT_USER_AGENT
    respect_robots: bool = True
    allow_private_addresses: bool = False
    allow_http: bool = False

    _session: Any = PrivateAttr(default=None)
    _robots: dict = PrivateAttr(default_factory=dict)
    _sleep: Any = PrivateAttr(default_factory=lambda: time.sleep)
    _clock: Any = PrivateAttr(default_factory=lambda: time.monotonic)
    _resolve: Any = PrivateAttr(default_factory=lambda: socket.getaddrinfo)

    # -- hooks and lifecycle -------------------------------------------------------------

    def with_hooks(self, *, sleep: Callable[[float], None] | None = None,
                   clock: Callable[[], float] | None = None,
                   resolve: Callable[..., Any] | None = None) -> "HttpClient":
        """Replace the sleep/clock/DNS functions (tests); returns self."""
        if sleep is not None:
            self._sleep = sleep
        if clock is not None:
            self._clock = clock
        if resolve is not None:
            self._resolve = resolve
        return self

    def session(self) -> requests.Session:
        """The reused session (created lazily: resources are built before any fetch)."""
        if self._session is None:
            session = requests.Session()
            session.headers["User-Agent"] = self.user_agent
            self._session = session
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.close()

    # -- public --------------------------------------------------------------------------

    def get(self, url: str, *, policy: SourcePolicy, headers: Mapping[str, str] | None = None,
            source: str = "") -> HttpResult:
        """GET `url` under `policy`: returns a 2xx/304 result with the body read, or raises
        an `AcquireError` subclass. Redirects are followed here (never by `requests`)."""
        if policy.manual_export_only:
            raise ManualExportOnly(source, url)
        deadline = self._clock() + policy.total_budget_s
        cap = min(self.max_bytes, policy.max_bytes)
        send = dict(headers or {})
        current, history, attempts = url, [], 0
        while True:
            try:
                self._check_url(current, policy, source, resolve=False)  # addresses: per attempt, below
                self._check_robots(current, policy, source, deadline)
                result, n = self._with_retries(current, send, policy, source, deadline, cap)
            except DisallowedUrl as e:
                if history:
                    raise DisallowedUrl(source, current, f"redirect from {history[-1]}: {e.reason}") from None
                raise
            attempts += n
            if result.status_code not in REDIRECT_STATUSES:
                result.requested_url, result.history, result.attempts = url, history, attempts
                return result
            location = result.headers.get("Location")
            if not location:
                raise HttpStatusError(source, result.status_code, current, "redirect without a Location header")
            if len(history) >= MAX_REDIRECTS:
                raise HttpStatusError(source, result.status_code, current, f"more than {MAX_REDIRECTS} redirects from {url}",
                                      transient=False)
            target = urljoin(current, location)
            if urlsplit(target).hostname != urlsplit(current).hostname:
                send = {k: v for k, v in send.items() if k.lower() not in _SENSITIVE_HEADERS}
            history.append(current)
            current = target

    # -- rules ---------------------------------------------------------------------------

    def _private_ok(self, policy: SourcePolicy) -> bool:
        return self.allow_private_addresses or policy.allow_private_addresses

    def _check_url(self, url: str, policy: SourcePolicy, source: str, *, resolve: bool = True) -> None:
        """Scheme, allowlist and (optionally) resolved-address rules for one URL."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise DisallowedUrl(source, url, f"scheme {scheme or '(none)'!r} is not fetched over the network")
        if scheme == "http" and not self.allow_http:
            raise DisallowedUrl(source, url, "plain http is not allowed (https only)")
        if parts.username or parts.password:
            raise DisallowedUrl(source, url, "credentials in the URL are not allowed")
        host = parts.hostname
        if not host:
            raise DisallowedUrl(source, url, "no host")
        if not policy.host_allowed(host):
            raise DisallowedUrl(source, url, f"host {host!r} is not on this source's allowlist {list(policy.allowed_hosts)}")
        if not resolve or self._private_ok(policy):
            return
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise DisallowedUrl(source, url, "invalid port") from None
        try:
            infos = self._resolve(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as e:
            raise ConnectionFailed(source, f"cannot resolve {host!r}: {e}") from None
        for info in infos:
            address = info[4][0]
            why = address_refusal(address)
            if why:
                raise DisallowedUrl(source, url, f"{host!r} resolves to {why} address {address} "
                                                 "(set allow_private_addresses to opt in)")

    def _check_robots(self, url: str, policy: SourcePolicy, source: str, deadline: float) -> None:
        if not self.respect_robots:
            return
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        if origin not in self._robots:
            self._robots[origin] = self._load_robots(origin, policy, source, deadline)
        parser, reason = self._robots[origin]
        if not parser.can_fetch(self.user_agent, url):
            raise RobotsDisallowed(source, url, reason or "disallowed by robots.txt", transient=reason is not None)

    def _load_robots(self, origin: str, policy: SourcePolicy, source: str,
                     deadline: float) -> tuple[RobotFileParser, str | None]:
        """Fetch and parse robots.txt (RFC 9309): 4xx means no rules; 5xx or unreachable
        means complete disallow (the reason says so, and is marked transient)."""
        parser = RobotFileParser(origin + "/robots.txt")
        url = origin + "/robots.txt"
        for _ in range(MAX_REDIRECTS + 1):
            try:
                self._check_url(url, policy, source)
                result = self._send_once(url, {}, ROBOTS_MAX_BYTES, deadline, source, truncate=True,
                                         read_timeout=min(self.read_timeout_s, 10.0))
            except DisallowedUrl:
                parser.allow_all = True  # redirected off the allowlist: treated as absent
                return parser, None
            except AcquireError as e:
                parser.disallow_all = True
                return parser, f"robots.txt unreachable ({e.message}); RFC 9309: assume disallow"
            status = result.status_code
            if status in REDIRECT_STATUSES and result.headers.get("Location"):
                url = urljoin(url, result.headers["Location"])
                continue
            if 200 <= status < 300:
                parser.parse(result.content.decode("latin-1").splitlines())  # rules are ASCII
                return parser, None
            if 400 <= status < 500 and status != 429:
                parser.allow_all = True
                return parser, None
            parser.disallow_all = True
            return parser, f"robots.txt answered HTTP {status}; RFC 9309: assume disallow"
        parser.allow_all = True
        return parser, None

    # -- transport -----------------------------------------------------------------------

    def _with_retries(self, url: str, headers: Mapping[str, str], policy: SourcePolicy, source: str,
                      deadline: float, cap: int) -> tuple[HttpResult, int]:
        """One request under the retry rules (the only retry layer of a fetch): transient
        failures are tried again after `Retry-After` (capped) or a full-jitter backoff,
        at most `max_retries` times and never when the wait would end past the deadline."""

        def attempt() -> HttpResult:
            self._check_url(url, policy, source)  # addresses re-resolved on every attempt
            result = self._send_once(url, headers, cap, deadline, source)
            status = result.status_code
            if status in (408, 429) or (status >= 500 and status != 501):
                error = HttpStatusError(source, status, url, transient=True)
                if status in (429, 503):
                    error.retry_after = parse_retry_after(result.headers.get("Retry-After"))
                raise error
            if status >= 400:
                raise HttpStatusError(source, status, url)
            return result

        jitter = wait_random_exponential(multiplier=self.backoff_base_s, max=self.backoff_max_s)

        def wait(state: RetryCallState) -> float:
            retry_after = getattr(state.outcome.exception(), "retry_after", None) if state.outcome else None
            return min(retry_after, self.retry_after_cap_s) if retry_after is not None else jitter(state)

        def give_up(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            assert isinstance(error, AcquireError)
            n = state.attempt_number
            if n > self.max_retries:
                raise _annotate(error, f"after {n} attempt(s)")
            raise _annotate(error, f"time budget of {policy.total_budget_s:g}s spent after {n} attempt(s)")

        retrying = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, AcquireError) and e.transient and not isinstance(e, TooLarge)),
            stop=stop_after_attempt(self.max_retries + 1) | (lambda s: self._clock() + s.upcoming_sleep >= deadline),
            wait=wait, sleep=self._sleep, retry_error_callback=give_up, reraise=True,
        )
        result = retrying(attempt)
        return result, retrying.statistics["attempt_number"]

    def _send_once(self, url: str, headers: Mapping[str, str], cap: int, deadline: float, source: str, *,
                   truncate: bool = False, read_timeout: float | None = None) -> HttpResult:
        """One request, no redirects, body streamed under the cap and the deadline.
        Non-2xx bodies are not read (they are never data)."""
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise FetchTimeout(source, f"time budget spent before requesting {url}")
        timeout = (min(self.connect_timeout_s, remaining), min(read_timeout or self.read_timeout_s, remaining))
        try:
            resp = self.session().get(url, headers=dict(headers), timeout=timeout, stream=True, allow_redirects=False)
        except requests.exceptions.ConnectTimeout:
            raise FetchTimeout(source, f"no connection within {timeout[0]:g}s: {url}") from None
        except requests.exceptions.ReadTimeout:
            raise FetchTimeout(source, f"no response within {timeout[1]:g}s: {url}") from None
        except requests.exceptions.SSLError as e:
            raise ConnectionFailed(source, f"TLS error for {url}: {e}", transient=False) from None
        except requests.exceptions.ConnectionError as e:
            raise ConnectionFailed(source, f"cannot connect to {url}: {e}") from None
        except requests.exceptions.RequestException as e:
            raise AcquireError(source, f"request to {url} failed: {e}") from None
        try:
            result = HttpResult(url=url, status_code=resp.status_code, headers=resp.headers, requested_url=url)
            if not 200 <= resp.status_code < 300:
                return result
            declared = _int_or_none(resp.headers.get("Content-Length"))
            if declared is not None and declared > cap and not truncate:
                raise TooLarge(source, url, cap, declared)
            body = bytearray()
            while True:
                # read1: whatever has arrived (at most CHUNK_BYTES, decompressed), so a
                # slow drip returns often and the deadline is checked between pieces.
                if self._clock() > deadline:
                    raise FetchTimeout(source, f"time budget spent while reading the body of {url} "
                                               f"({len(body)} bytes received)")
                chunk = resp.raw.read1(CHUNK_BYTES, decode_content=True)
                if not chunk:
                    break
                body += chunk
                if len(body) > cap:
                    if truncate:
                        del body[cap:]
                        break
                    raise TooLarge(source, url, cap)
            result.content = bytes(body)
            return result
        except ReadTimeoutError:
            raise FetchTimeout(source, f"read timeout while downloading {url}") from None
        except DecodeError:
            raise ContentMismatch(source, "content_encoding",
                                  f"the body of {url} does not decode as its declared Content-Encoding") from None
        except ProtocolError:
            raise ContentMismatch(source, "truncated", f"connection closed before the body of {url} was complete",
                                  transient=True) from None
        except (requests.exceptions.ConnectionError, OSError) as e:
            raise ConnectionFailed(source, f"connection lost while downloading {url} ({type(e).__name__})") from None
        finally:
            resp.close()


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _annotate(error: AcquireError, note: str) -> AcquireError:
    """Add context to the message of an error about to be raised."""
    error.message = f"{error.message} ({note})"
    error.args = (f"{error.source}: {error.message}" if error.source else error.message,)
    return error
