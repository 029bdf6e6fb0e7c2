"""Who is asking: sessions in HttpOnly SameSite=Strict cookies, a CSRF token per session, the Origin check,
and sign-in attempts limited per address and per group.

Sessions live in the server's memory (a restart signs everyone out). Each signed-in session remembers the
hash of the code it signed in with; a request whose holder's code has changed since (`xladdin codes --new`)
finds its session ended.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

COOKIE = "xladdin_session"
SESSION_SECONDS = 12 * 3600  # a working day: staff sign in again the next morning
MAX_SESSIONS = 5000


@dataclass
class Session:
    sid: str
    csrf: str
    holder: str | None = None  # None: not signed in; "" HQ (管理码); else the work group
    code_hash: str = ""
    seen: float = field(default_factory=time.monotonic)
    flash: dict | None = None  # what the next page shows once (the verdict of an upload, a run's message)

    @property
    def signed_in(self) -> bool:
        return self.holder is not None


class Sessions:
    """The server's sessions, by id; old ones forgotten after SESSION_SECONDS or past MAX_SESSIONS."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            session = self._by_id.get(sid)
            if session is None:
                return None
            now = self._clock()
            if now - session.seen > SESSION_SECONDS:
                del self._by_id[sid]
                return None
            session.seen = now
            return session

    def new(self, holder: str | None = None, code_hash: str = "") -> Session:
        """A fresh session (a new id on every sign-in: an id seen before signing in is never trusted after)."""
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(24), holder, code_hash, self._clock())
        with self._lock:
            if len(self._by_id) >= MAX_SESSIONS:
                for sid, _ in sorted(self._by_id.items(), key=lambda item: item[1].seen)[:MAX_SESSIONS // 10]:
                    del self._by_id[sid]
            self._by_id[session.sid] = session
        return session

    def end(self, sid: str) -> None:
        with self._lock:
            self._by_id.pop(sid, None)


def same_token(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


class Throttle:
    """Failed sign-ins counted in a sliding window per key ("addr:…", "holder:…"); a key over its limit is
    refused until its oldest failure leaves the window."""

    WINDOW = 600.0  # seconds

    def __init__(self, per_address: int = 20, per_holder: int = 5, clock=time.monotonic):
        self.limits = {"addr": per_address, "holder": per_holder}
        self._clock = clock
        self._failures: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque:
        found = self._failures.setdefault(key, deque())
        cutoff = self._clock() - self.WINDOW
        while found and found[0] < cutoff:
            found.popleft()
        return found

    def wait_minutes(self, *keys: str) -> int:
        """0 when every key may try again, else the minutes until the first of them may."""
        with self._lock:
            waits = []
            for key in keys:
                recent = self._recent(key)
                if len(recent) >= self.limits[key.split(":", 1)[0]]:
                    waits.append(recent[0] + self.WINDOW - self._clock())
            return max(1, int(max(waits) // 60) + 1) if waits else 0

    def failed(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._recent(key).append(self._clock())

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
