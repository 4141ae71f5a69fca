"""Sign-in, roles, login locks and CSRF for the desk.

CSRF: :class:`FormCSRFMiddleware` is starlette-csrf's double-submit middleware (signed token in
a cookie, compared with itsdangerous) that also accepts the token from the ``csrftoken`` hidden
field of a form, and that hands the token to the templates before the cookie exists. Every
POST is checked, the login form included; the body is read once, capped, and replayed to the
application.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette_csrf.middleware import CSRFMiddleware

from civicbot.desk.config import DeskConfig, DeskUser

CSRF_FIELD = "csrftoken"
MAX_FAILURES = 5
LOCK_SECONDS = 60.0


class FormCSRFMiddleware(CSRFMiddleware):
    """starlette-csrf, with the token also read from a hidden form field."""

    def __init__(self, app: ASGIApp, secret: str, *, max_body: int, **kwargs: Any) -> None:
        super().__init__(app, secret, **kwargs)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # pragma: no cover
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        cookie = request.cookies.get(self.cookie_name)
        # the token the page's forms carry: the cookie's, or the one about to be set
        scope.setdefault("state", {})["csrf_token"] = cookie or self._generate_csrf_token()
        if request.method in self.safe_methods:
            await self.app(scope, receive, self._sender(send, scope, cookie))
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = bool(message.get("more_body"))
            if len(body) > self.max_body:
                await PlainTextResponse("Request too large", status_code=413)(scope, receive, send)
                return

        async def replay() -> Message:
            nonlocal body
            chunk, body = body, b""
            return {"type": "http.request", "body": chunk, "more_body": False}

        submitted = request.headers.get(self.header_name)
        if not submitted:
            form: FormData = await Request(scope, _once(body)).form()
            value = form.get(CSRF_FIELD)
            submitted = value if isinstance(value, str) else None
        if not cookie or not submitted or not self._csrf_tokens_match(cookie, submitted):
            await self._get_error_response(request)(scope, receive, send)
            return
        await self.app(scope, replay, self._sender(send, scope, cookie))

    def _sender(self, send: Send, scope: Scope, cookie: str | None) -> Send:
        if cookie is not None:
            return send
        token = scope["state"]["csrf_token"]

        async def with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                import http.cookies

                from starlette.datastructures import MutableHeaders

                headers = MutableHeaders(scope=message)
                jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
                jar[self.cookie_name] = token
                jar[self.cookie_name]["path"] = self.cookie_path
                jar[self.cookie_name]["samesite"] = self.cookie_samesite
                jar[self.cookie_name]["httponly"] = True
                if self.cookie_secure:
                    jar[self.cookie_name]["secure"] = True
                headers.append("set-cookie", jar.output(header="").strip())
            await send(message)

        return with_cookie


def _once(body: bytes) -> Callable[[], Awaitable[Message]]:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class LoginGuard:
    """Checks passwords (argon2) and locks a user for a minute after 5 failures in a row."""

    def __init__(self, config: DeskConfig, *, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        from argon2 import PasswordHasher

        self.config = config
        self._hasher = PasswordHasher()
        self._clock = clock
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self._dummy_hash = self._hasher.hash(secrets.token_hex(16))

    def locked(self, name: str) -> bool:
        with self._lock:
            return self._locked_until.get(name, 0.0) > self._clock()

    def check(self, name: str, password: str) -> tuple[DeskUser | None, bool]:
        """(the user, or None; whether the user is locked)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        if self.locked(name):
            return None, True
        user = self.config.user(name)
        ok = False
        if user is not None:
            try:
                ok = self._hasher.verify(user.password_hash.get_secret_value(), password)
            except (VerificationError, InvalidHashError):
                ok = False
        else:  # same cost as a real check: no user enumeration by timing
            with contextlib.suppress(VerificationError, InvalidHashError):
                self._hasher.verify(self._dummy_hash, password)
        with self._lock:
            if ok:
                self._failures.pop(name, None)
                return user, False
            count = self._failures.get(name, 0) + 1
            self._failures[name] = count
            if count >= MAX_FAILURES:
                self._failures[name] = 0
                self._locked_until[name] = self._clock() + LOCK_SECONDS
                return None, True
        return None, False


