"""REST endpoints of the sandbox instance: instance, accounts, timelines, notifications, markers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from civicbot.testing.sandbox_entities import credential_account, instance_v1, instance_v2, iso
from civicbot.testing.sandbox_http import HttpRequest, Response
from civicbot.testing.sandbox_profiles import id_sort_key
from civicbot.testing.sandbox_state import SandboxState, as_list, error_response

__all__ = ["AccountsRestMixin"]


class AccountsRestMixin(SandboxState):
    """Instance, accounts, timelines, notifications and markers endpoints."""

    # instance & accounts

    def _stats(self) -> dict[str, int]:
        return {
            "user_count": 1,
            "status_count": len(self.statuses),
            "domain_count": len({a["acct"].split("@")[-1] for a in self._accounts_by_id.values()}),
        }

    def _get_instance_v1(self, req: HttpRequest) -> Response:
        return Response(
            200,
            instance_v1(
                domain=self.domain,
                base_url=self.url,
                streaming_url=self.streaming_url,
                max_characters=self.max_characters,
                stats=self._stats(),
                version=self.profile.version,
            ),
        )

    def _get_instance_v2(self, req: HttpRequest) -> Response:
        if not self.profile.instance_v2:
            return error_response(404, "Not found")  # snac: /api/v1/instance only
        return Response(
            200,
            instance_v2(
                domain=self.domain,
                base_url=self.url,
                streaming_url=self.streaming_url,
                max_characters=self.max_characters,
                active_month=1,
                version=self.profile.version,
                source_url=self.profile.source_url,
            ),
        )

    def _get_health(self, req: HttpRequest) -> Response:
        if self.streaming == "none" or not self.profile.streaming_health:
            return error_response(404, "Not found")
        return Response(200, "OK", content_type="text/plain; charset=utf-8")

    def _verify_credentials(self, req: HttpRequest) -> Response:
        account = credential_account(self._bot)
        account["acct"] = self._bot["username"]  # snac: plain ``bot`` here only
        return Response(200, account)

    def _account_lookup(self, req: HttpRequest) -> Response:
        acct = str(req.query.get("acct", "")).lstrip("@").lower()
        if acct.endswith("@" + self.domain.lower()):
            acct = acct[: -len(self.domain) - 1]
        account = self._accounts_by_acct.get(acct)
        return Response(200, account) if account else error_response(404)

    def _get_account(self, req: HttpRequest, account_id: str) -> Response:
        account = self._accounts_by_id.get(account_id)
        return Response(200, account) if account else error_response(404)

    def _account_statuses(self, req: HttpRequest, account_id: str) -> Response:
        max_id = self._id_param(req, "max_id")
        since_id = self._id_param(req, "since_id")
        no_replies = str(req.query.get("exclude_replies", "")).lower() in {"1", "true"}
        found = [
            s for s in self._statuses_by_id.values()
            if s["account"]["id"] == account_id
            and (max_id is None or id_sort_key(s["id"]) < max_id)
            and (since_id is None or id_sort_key(s["id"]) > since_id)
            and not (no_replies and s["in_reply_to_id"])
        ]
        found.sort(key=lambda s: id_sort_key(s["id"]), reverse=True)
        return Response(200, found[: self._limit(req, 20, 40)])

    def _empty_list(self, req: HttpRequest) -> Response:
        return Response(200, [])

    def _home_timeline(self, req: HttpRequest) -> Response:
        return Response(200, list(reversed(self.statuses))[: self._limit(req, 20, 40)])

    def _list_notifications(self, req: HttpRequest) -> Response:
        from bisect import bisect_left, bisect_right

        if self.profile.snac_notifications:
            return self._list_notifications_snac(req)
        limit = self._limit(req, 40, 80)
        types = {str(t) for t in as_list(req.query.get("types"))}
        exclude = {str(t) for t in as_list(req.query.get("exclude_types"))}
        max_id = self._id_param(req, "max_id")
        since_id = self._id_param(req, "since_id")
        min_id = self._id_param(req, "min_id")
        ids = self._notification_ids
        above = [k for k in (since_id, min_id) if k is not None]
        lo = bisect_right(ids, max(above)) if above else 0
        hi = bisect_left(ids, max_id) if max_id is not None else len(ids)

        def wanted(n: dict[str, Any]) -> bool:
            return (not types or n["type"] in types) and n["type"] not in exclude

        page: list[dict[str, Any]] = []
        if min_id is not None:
            for index in range(lo, hi):
                n = self.notifications[index]
                if wanted(n):
                    page.append(n)
                    if len(page) >= limit:
                        break
            page.reverse()
        else:
            for index in range(hi - 1, lo - 1, -1):
                n = self.notifications[index]
                if wanted(n):
                    page.append(n)
                    if len(page) >= limit:
                        break
        headers: dict[str, str] = {}
        if page:
            links = []
            extra: list[tuple[str, str]] = []
            if "limit" in req.query:
                extra.append(("limit", str(req.query["limit"])))
            extra.extend(("types[]", t) for t in sorted(types))
            extra.extend(("exclude_types[]", t) for t in sorted(exclude))
            base = f"{self.url}/api/v1/notifications?"
            if len(page) == limit:
                links.append(
                    f'<{base}{urlencode([*extra, ("max_id", page[-1]["id"])])}>; rel="next"'
                )
            links.append(f'<{base}{urlencode([*extra, ("min_id", page[0]["id"])])}>; rel="prev"')
            headers["Link"] = ", ".join(links)
        return Response(200, page, headers)

    def _list_notifications_snac(self, req: HttpRequest) -> Response:
        """snac's notifications API: one notification without ``limit``; only the newest
        ``notifications_kept`` reachable; ``min_id`` (like ``since_id``) gives the *newest* N
        above the id; ``max_id`` must be an existing id (else nothing); no ``Link`` header."""
        try:
            limit = max(1, int(str(req.query["limit"]))) if "limit" in req.query else 1
        except ValueError:
            limit = 1
        types = {str(t) for t in as_list(req.query.get("types"))}
        exclude = {str(t) for t in as_list(req.query.get("exclude_types"))}
        kept = self.profile.notifications_kept
        reachable = self.notifications[-kept:] if kept else list(self.notifications)
        ordered = [n for n in reversed(reachable)
                   if (not types or n["type"] in types) and n["type"] not in exclude]
        max_id = req.query.get("max_id")
        if max_id not in (None, ""):
            index = next((i for i, n in enumerate(ordered) if n["id"] == str(max_id)), None)
            if index is None:
                return Response(200, [])
            ordered = ordered[index + 1:]
        for name in ("min_id", "since_id"):
            above = self._id_param(req, name)
            if above is not None:
                ordered = [n for n in ordered if id_sort_key(n["id"]) > above]
        return Response(200, ordered[:limit])

    def _find_notification(self, notification_id: str) -> dict[str, Any] | None:
        from bisect import bisect_left

        if self.profile.snac_notifications:
            return None  # snac: no GET /api/v1/notifications/:id nor dismiss
        key = id_sort_key(notification_id)
        index = bisect_left(self._notification_ids, key)
        if index < len(self._notification_ids) and self._notification_ids[index] == key:
            return self.notifications[index]
        return None

    def _get_notification(self, req: HttpRequest, notification_id: str) -> Response:
        found = self._find_notification(notification_id)
        return Response(200, found) if found else error_response(404)

    def _dismiss_notification(self, req: HttpRequest, notification_id: str) -> Response:
        found = self._find_notification(notification_id)
        if found is None:
            return error_response(404)
        index = self.notifications.index(found)
        del self.notifications[index]
        del self._notification_ids[index]
        return Response(200, {})

    def _clear_notifications(self, req: HttpRequest) -> Response:
        self.notifications.clear()
        self._notification_ids.clear()
        return Response(200, {})

    # markers

    def _get_markers(self, req: HttpRequest) -> Response:
        wanted = [str(t) for t in as_list(req.query.get("timeline"))]
        out = {k: v for k, v in self.markers.items() if not wanted or k in wanted}
        return Response(200, out)

    def _post_markers(self, req: HttpRequest) -> Response:
        out: dict[str, Any] = {}
        for timeline in ("home", "notifications"):
            spec = req.body.get(timeline)
            if not isinstance(spec, dict) or spec.get("last_read_id") in (None, ""):
                continue
            previous = self.markers.get(timeline)
            marker = {
                "last_read_id": str(spec["last_read_id"]),
                "version": (previous["version"] + 1) if previous else 1,
                "updated_at": iso(self.now()),
            }
            self.markers[timeline] = marker
            out[timeline] = marker
        return Response(200, out)
