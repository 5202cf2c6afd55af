"""A small client of the Airflow 3 public REST API (v2): trigger, wait, read results.

Ops scripts (``newsflow airflow trigger``) and the tests that drive a real Airflow use the
same client; it logs in through ``POST /auth/token`` (the simple auth manager and any auth
manager implementing it) and turns every non-2xx answer into :class:`AirflowError`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from pipeline.errors import NewsflowError, UsageError

if TYPE_CHECKING:
    from pipeline.airflow_local import AirflowComponents

TERMINAL_STATES = {"success", "failed"}


class AirflowError(NewsflowError):
    """An Airflow command or API call failed; the message says which and why."""


def check_conf(dag_id: str, conf: Mapping[str, Any], declared: Mapping[str, Any]) -> None:
    """:class:`UsageError` for a ``conf`` key the DAG does not declare as a Param.

    Airflow itself accepts any key into ``dag_run.conf`` and the task never reads a misspelt
    one, so ``{"max_page": 5}`` would crawl without a page limit.
    """
    import difflib

    unknown = sorted(set(conf) - set(declared))
    if not unknown:
        return
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, list(declared), n=1)
        hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    known = ", ".join(sorted(declared)) or "none"
    raise UsageError(f"{dag_id} has no Param {', '.join(hints)}; its Params: {known}")


class AirflowClient:
    """A small client of the Airflow 3 public REST API (v2), with JWT auth.

    Ops scripts and tests use it to trigger DAG runs and wait for them; the simple auth
    manager (and any auth manager implementing ``/auth/token``) hands out the token.
    """

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, trust_env=False)
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AirflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def token(self) -> str:
        """A JWT from ``POST /auth/token`` (cached; refreshed on a 401)."""
        if self._token is None:
            response = self._http.post(
                "/auth/token", json={"username": self.username, "password": self.password}
            )
            if response.status_code >= 300:
                raise AirflowError(
                    f"login as {self.username} failed: HTTP {response.status_code} {response.text}"
                )
            self._token = str(response.json()["access_token"])
        return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call ``/api/v2{path}``; return the decoded JSON, raise :class:`AirflowError` otherwise."""
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.token()}"}
            response = self._send(method, f"/api/v2{path}", headers=headers, **kwargs)
            if response.status_code == 401 and attempt == 0:
                self._token = None
                continue
            break
        if response.status_code >= 300:
            raise AirflowError(f"{method} {path}: HTTP {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One HTTP call; a read of state (GET) that times out is asked again, twice.

        An API server that also serves the execution API of busy tasks can miss one
        deadline; a GET changes nothing, so asking again is safe (a POST is not retried).
        """
        for attempt in range(3):
            try:
                return self._http.request(method, url, **kwargs)
            except httpx.TimeoutException:
                if method != "GET" or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def wait_until_healthy(self, timeout: float = 180.0, components: AirflowComponents | None = None) -> None:
        """Wait until the API server answers and the metadatabase is healthy."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if components is not None:
                components.check_alive()
            try:
                response = self._http.get("/api/v2/monitor/health")
                if response.status_code == 200:
                    health = response.json()
                    if health.get("metadatabase", {}).get("status") == "healthy":
                        return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(1.0)
        raise AirflowError(f"API server at {self.base_url} not healthy after {timeout:.0f}s: {last}")

    def wait_for_dag(
        self, dag_id: str, timeout: float = 180.0, components: AirflowComponents | None = None
    ) -> dict[str, Any]:
        """Wait until the DAG processor has parsed and serialised ``dag_id``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if components is not None:
                components.check_alive()
            try:
                dag: dict[str, Any] = self.request("GET", f"/dags/{dag_id}")
                return dag
            except AirflowError as exc:
                if "HTTP 404" not in str(exc):
                    raise
            time.sleep(2.0)
        errors = self.request("GET", "/importErrors")
        raise AirflowError(f"DAG {dag_id} not parsed after {timeout:.0f}s; import errors: {errors}")

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})

    def trigger(
        self, dag_id: str, conf: Mapping[str, Any] | None = None, logical_date: str | None = None
    ) -> str:
        """Trigger a DAG run (manual); return its run id."""
        body = {"logical_date": logical_date, "conf": dict(conf or {})}
        run: dict[str, Any] = self.request("POST", f"/dags/{dag_id}/dagRuns", json=body)
        return str(run["dag_run_id"])

    def trigger_checked(
        self, dag_id: str, conf: Mapping[str, Any], *, unpause: bool = False
    ) -> tuple[str, bool]:
        """Trigger a run after :func:`check_conf` against the DAG's declared Params.

        Unpauses the DAG only when asked (ops decide when a DAG starts its schedule). Returns
        the run id and whether the DAG is still paused (the run then waits).
        """
        details: dict[str, Any] = self.request("GET", f"/dags/{dag_id}/details")
        check_conf(dag_id, conf, details.get("params") or {})
        if unpause:
            self.set_paused(dag_id, False)
        return self.trigger(dag_id, conf), bool(details.get("is_paused")) and not unpause

    def clear_run(
        self, dag_id: str, run_id: str, task_ids: list[str] | None = None, *, downstream: bool = False
    ) -> int:
        """Clear the run's task instances (all, or ``task_ids`` and, with ``downstream``, the
        tasks after them: the UI's *Clear* of one task) so the scheduler reruns them."""
        body: dict[str, Any] = {
            "dry_run": False,
            "dag_run_id": run_id,
            "only_failed": False,
            "reset_dag_runs": True,
            "include_downstream": downstream,
        }
        if task_ids is not None:
            body["task_ids"] = task_ids
        cleared = self.request("POST", f"/dags/{dag_id}/clearTaskInstances", json=body)
        return len(cleared.get("task_instances", []))

    def create_backfill(
        self, dag_id: str, from_date: str, to_date: str, *, max_active_runs: int | None = None
    ) -> dict[str, Any]:
        """``POST /backfills`` (what ``airflow backfill create`` does): runs for the logical
        dates in ``[from_date, to_date]``; returns the backfill (its ``id``)."""
        body: dict[str, Any] = {"dag_id": dag_id, "from_date": from_date, "to_date": to_date}
        if max_active_runs is not None:
            body["max_active_runs"] = max_active_runs
        backfill: dict[str, Any] = self.request("POST", "/backfills", json=body)
        return backfill

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """The run's task instances as the API describes them (state, try number, dates, …)."""
        data = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        instances: list[dict[str, Any]] = data["task_instances"]
        return instances

    def run_state(self, dag_id: str, run_id: str) -> str:
        run: dict[str, Any] = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        return str(run["state"])

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        """``task_id[map_index]`` -> state of every task instance of the run."""
        states = {}
        for ti in self.task_instances(dag_id, run_id):
            key = ti["task_id"] if ti.get("map_index", -1) < 0 else f"{ti['task_id']}[{ti['map_index']}]"
            states[key] = str(ti["state"])
        return states

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        timeout: float = 600.0,
        components: AirflowComponents | None = None,
    ) -> str:
        """Poll the run until it succeeds or fails; return the final state."""
        deadline = time.monotonic() + timeout
        state = "unknown"
        while time.monotonic() < deadline:
            if components is not None:
                components.check_alive()
            state = self.run_state(dag_id, run_id)
            if state in TERMINAL_STATES:
                return state
            time.sleep(2.0)
        raise AirflowError(
            f"run {run_id} of {dag_id} still {state} after {timeout:.0f}s; tasks: {self.task_states(dag_id, run_id)}"
        )

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        """The DAG's runs (up to 100)."""
        data = self.request("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})
        runs: list[dict[str, Any]] = data["dag_runs"]
        return runs

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        """A task's XCom value (deserialised)."""
        entry = self.request(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
            params={"deserialize": "true", "stringify": "false"},
        )
        return entry["value"]

    def asset_events(self, asset_name: str | None = None) -> list[dict[str, Any]]:
        data = self.request("GET", "/assets/events", params={"limit": 100, "order_by": "-timestamp"})
        events: list[dict[str, Any]] = data["asset_events"]
        if asset_name is not None:
            events = [e for e in events if e.get("name") == asset_name or e.get("asset_name") == asset_name]
        return events
