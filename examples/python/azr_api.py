#!/usr/bin/env python3
"""Drive the AZR Platform over its REST/JSON API with the Python standard library only.

    export AZR_URL=http://127.0.0.1:4300 AZR_TOKEN=azr_pat_...
    python3 azr_api.py                # launch a tiny-cpu run, then list, read and compare runs

The full list of routes and their parameters is the OpenAPI document at $AZR_URL/api/openapi.json.
"""
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class Azr:
    def __init__(self, url=None, token=None, timeout=30):
        self.url = (url or os.environ.get("AZR_URL", "http://127.0.0.1:4300")).rstrip("/")
        self.token = token or os.environ["AZR_TOKEN"]
        self.timeout = timeout

    def _request(self, method, path, query=None, body=None):
        url = f"{self.url}{path}"
        if query:
            # Lists travel comma-separated (runIds=a,b); None values are left out.
            pairs = {k: ",".join(v) if isinstance(v, (list, tuple)) else str(v).lower() if isinstance(v, bool) else v for k, v in query.items() if v is not None}
            url += "?" + urllib.parse.urlencode(pairs)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method, headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                return json.loads(res.read())
        except urllib.error.HTTPError as e:
            try:
                err = json.loads(e.read())["error"]
            except Exception:  # not our JSON error body
                err = {"code": "HTTP_ERROR", "message": e.reason}
            raise ApiError(e.code, err["code"], err["message"]) from None

    # runs
    def create_run(self, preset=None, config=None, **fields):
        return self._request("POST", "/api/v1/runs", body={**({"preset": preset} if preset else {}), **({"config": config} if config else {}), **fields})

    def list_runs(self, **filters):
        return self._request("GET", "/api/v1/runs", query=filters)

    def get_run(self, run_id):
        return self._request("GET", f"/api/v1/runs/{run_id}")

    def cancel_run(self, run_id, reason=None):
        return self._request("POST", f"/api/v1/runs/{run_id}/cancel", body={"reason": reason} if reason else {})

    # metrics, samples, compare
    def series(self, run_ids, keys, points=500, axis="step"):
        return self._request("GET", "/api/v1/metrics/series", query={"runIds": run_ids, "keys": keys, "points": points, "axis": axis})

    def latest(self, run_ids):
        return self._request("GET", "/api/v1/metrics/latest", query={"runIds": run_ids})

    def rollouts(self, run_id, **filters):
        return self._request("GET", f"/api/v1/runs/{run_id}/rollouts", query=filters)

    def compare(self, run_ids, keys=()):
        return self._request("POST", "/api/v1/compare", body={"runIds": list(run_ids), "keys": list(keys), "series": False})


def main():
    azr = Azr()
    run = azr.create_run("tiny-cpu", config={"azr": {"batchSize": 8}}, name="from-python", tags=["python"])
    print(f"created {run['id']} ({run['name']}): {run['status']}")
    try:
        azr.create_run("tiny-cpu", config={"azr": {"batchSize": 0}})
    except ApiError as e:
        print(f"refused as expected: {e.status} {e.message}")
    runs = azr.list_runs(tag="python", limit=10)["items"]
    print(f"{len(runs)} run(s) tagged python")
    ids = [r["id"] for r in azr.list_runs(limit=2)["items"]]
    if len(ids) == 2:
        diff = azr.compare(ids)["configDiff"]
        print(f"{len(diff)} config difference(s) between the two newest runs")
    print(f"cancelled: {azr.cancel_run(run['id'], reason='example done')['status']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
