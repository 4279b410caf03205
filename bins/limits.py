"""Rate limits: a token bucket per bin and one per client address.

Checked by the writer process for each batch before it stores it (bins.writer):
in Redis when REDIS_URL is set, in one round trip a batch, so that every server
process draws from the same buckets; in the writer process's memory otherwise
(one server process). A request passes only when each of its buckets holds a
token, and then takes one from each; a refused one learns how long until it
would pass, is counted on its bin, and is not stored.
"""

import ipaddress
import logging
import math
import time
from dataclasses import dataclass

logger = logging.getLogger(__name__)
MAX_MEMORY_BUCKETS = 10_000  # past this, full buckets (the same as none) are forgotten
RETRY_REDIS_AFTER = 5  # seconds without limits after Redis failed to answer


@dataclass(frozen=True)
class Rate:
    per_second: float  # 0: no limit
    burst: int


def client_key(address):
    """The bucket of a client address: IPv6 by its /64, which one host usually holds
    whole, so that walking through it does not give a fresh bucket each time."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class Limiter:
    """The rates, and which buckets a request draws from; subclasses keep buckets."""

    def __init__(self, bin_rate, client_rate):
        self.rates = {"bin": bin_rate, "client": client_rate}

    def keys(self, record):
        keys = []
        if self.rates["bin"].per_second > 0:
            keys.append(("bin", record.bin_id))
        if self.rates["client"].per_second > 0:
            keys.append(("client", client_key(record.remote_addr)))
        return keys

    def waits(self, records):
        """Per record, 0 when it may pass (a token taken from each of its buckets),
        else the seconds until it would."""
        keys = [self.keys(record) for record in records]
        if not any(keys):
            return [0.0] * len(records)
        return self.take(keys)


def refill(tokens, at, now, rate):
    return min(rate.burst, tokens + max(0.0, now - at) * rate.per_second)


class MemoryLimiter(Limiter):
    def __init__(self, bin_rate, client_rate):
        super().__init__(bin_rate, client_rate)
        self.buckets = {}  # (kind, name) -> (tokens, when)

    def level(self, key, now):
        rate = self.rates[key[0]]
        return refill(*self.buckets.get(key, (rate.burst, now)), now, rate)

    def take(self, keys, now=None):
        now = time.monotonic() if now is None else now
        waits = []
        for request_keys in keys:
            levels = {key: self.level(key, now) for key in request_keys}
            wait = max(
                (
                    max(0.0, 1 - level) / self.rates[key[0]].per_second
                    for key, level in levels.items()
                ),
                default=0.0,
            )
            for key, level in levels.items():
                self.buckets[key] = (level - 1 if wait == 0 else level, now)
            waits.append(wait)
        if len(self.buckets) > MAX_MEMORY_BUCKETS:
            self.buckets = {
                key: (self.level(key, now), now)
                for key in self.buckets
                if self.level(key, now) < self.rates[key[0]].burst
            }
        return waits


# KEYS: the buckets a batch draws from, each once; ARGV: bin rate, bin burst, client
# rate, client burst, then the requests as "1,2;1,3;..." (each one's KEYS, by
# position): a batch is one short command, whatever its size. The arithmetic of
# MemoryLimiter, on Redis's clock so that servers on several machines agree.
TAKE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local buckets = {}
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[3]), tonumber(ARGV[4])
  if string.find(key, ':limit:bin:', 1, true) then
    rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
  end
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  local level = math.min(burst, tokens + math.max(0, now - at) * rate)
  buckets[i] = {level = level, rate = rate, burst = burst}
end
local waits = {}
for request in string.gmatch(ARGV[5], '[^;]+') do
  local mine, wait = {}, 0
  for index in string.gmatch(request, '%d+') do
    local b = buckets[tonumber(index)]
    mine[#mine + 1] = b
    if b.level < 1 then wait = math.max(wait, (1 - b.level) / b.rate) end
  end
  if wait == 0 then
    for _, b in ipairs(mine) do b.level = b.level - 1 end
  end
  waits[#waits + 1] = tostring(wait)
end
for i, key in ipairs(KEYS) do
  local b = buckets[i]
  redis.call('HSET', key, 'tokens', tostring(b.level), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((b.burst - b.level) / b.rate * 1000) + 1000)
end
return waits
"""


class RedisLimiter(Limiter):
    def __init__(self, bin_rate, client_rate, url, prefix):
        import redis

        super().__init__(bin_rate, client_rate)
        self.errors = redis.RedisError
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.script = self.client.register_script(TAKE_SCRIPT)
        self.prefix = prefix
        self.failing_until = None  # after a failure, Redis is left alone for a while

    def take(self, keys):
        if self.failing_until is not None and time.monotonic() < self.failing_until:
            return [0.0] * len(keys)
        positions = {}  # bucket -> its position in KEYS, from 1
        for request in keys:
            for key in request:
                positions.setdefault(key, len(positions) + 1)
        names = [f"{self.prefix}:limit:{kind}:{name}" for kind, name in positions]
        requests = ";".join(",".join(str(positions[key]) for key in request) for request in keys)
        bins, clients = self.rates["bin"], self.rates["client"]
        args = [bins.per_second, bins.burst, clients.per_second, clients.burst, requests]
        try:
            waits = [float(wait) for wait in self.script(keys=names, args=args)]
        except self.errors as error:
            # Capture goes on without Redis: let everything through meanwhile, and do
            # not make every batch wait for a Redis that is away to time out.
            if self.failing_until is None:
                logger.warning("rate limits are off while Redis does not answer: %s", error)
            self.failing_until = time.monotonic() + RETRY_REDIS_AFTER
            return [0.0] * len(keys)
        if self.failing_until is not None:
            logger.warning("rate limits are on again")
            self.failing_until = None
        return waits


def retry_after(wait):
    """Whole seconds for a Retry-After header: at least 1."""
    return max(1, math.ceil(wait))


def limiter_from_settings():
    from django.conf import settings

    bin_rate = Rate(settings.INSPECTOR_BIN_RATE, settings.INSPECTOR_BIN_BURST)
    client_rate = Rate(settings.INSPECTOR_CLIENT_RATE, settings.INSPECTOR_CLIENT_BURST)
    if settings.REDIS_URL:
        return RedisLimiter(
            bin_rate, client_rate, settings.REDIS_URL, settings.INSPECTOR_REDIS_PREFIX
        )
    return MemoryLimiter(bin_rate, client_rate)
