"""Load: N concurrent sessions against a served Carta for T seconds, as raw websocket sessions.

Each session does what a browser does on a page load: it opens Streamlit's websocket, asks for a
page with its query string, and reads until the script has finished; then it loads the next page
of a round (home, a patient's trajectory, the case summary, the cohort explorer, safety) at once,
with no think time, so the server is never idle. A page load that shows an exception, ends
otherwise than successfully, or takes longer than the timeout is an error.

    python -m bench.load [--sessions 20] [--seconds 60] [--store PATH] [--url URL]
    python -m bench.load --compare [--replicas 2]   # one process, then replicas behind nginx

Target (issue 13): 0 errors and p95 ≤ 5 s at 20 sessions for 60 s on these 2-core machines.
Without --url it starts its own server on the default store (built if needed). With --compare
(issue 17) it runs the same load against one process and then against --replicas identical
processes behind nginx (deploy/nginx.conf, bench/replicas.py); target: 0 errors, and the
replicas ≥ 1.7 x the loads/s of one process.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

PAGE_TIMEOUT = 60.0
FINISHED = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")


def rounds(patients: list[str]) -> list[tuple[str, str]]:
    """(page, query string) of one user's round, a different patient each time."""
    pages = []
    for patient in patients:
        pages += [("", ""), ("trajectory", f"patient={patient}"),
                  ("summary", f"patient={patient}"), ("cohort", ""), ("safety", "")]  # fmt: skip
    return pages


@dataclass
class Tally:
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    by_page: dict[str, list[float]] = field(default_factory=dict)
    charts: dict[str, list[int]] = field(default_factory=dict)  # charts drawn per load


async def page_load(url: str, page: str, query: str) -> tuple[float, str | None, int]:
    """(seconds, error or None, charts drawn) of one page load in a new session."""
    host = urlparse(url).netloc
    started = time.perf_counter()
    async with websockets.connect(
        f"ws://{host}/_stcore/stream", subprotocols=["streamlit"], max_size=2**28,
        origin=f"http://{host}", open_timeout=PAGE_TIMEOUT,
    ) as socket:  # fmt: skip
        message = BackMsg()
        message.rerun_script.query_string = query
        message.rerun_script.page_name = page
        await socket.send(message.SerializeToString())
        error, charts = None, 0
        while True:
            raw = await asyncio.wait_for(socket.recv(), PAGE_TIMEOUT)
            forward = ForwardMsg()
            forward.ParseFromString(raw)
            kind = forward.WhichOneof("type")
            if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                element = forward.delta.new_element.WhichOneof("type")
                if element == "exception":
                    error = error or f"{page}?{query}: exception on the page"
                charts += element in ("arrow_vega_lite_chart", "vega_lite_chart")
            elif kind == "script_finished":
                if forward.script_finished != FINISHED:
                    error = (
                        error or f"{page}?{query}: script finished with {forward.script_finished}"
                    )
                break
            elif kind == "page_not_found":
                error = f"{page}: page not found"
    return time.perf_counter() - started, error, charts


async def session(url: str, plan: list[tuple[str, str]], offset: int, until: float, tally: Tally):
    step = offset
    while time.perf_counter() < until:
        page, query = plan[step % len(plan)]
        step += 1
        try:
            seconds, error, charts = await page_load(url, page, query)
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            seconds, error, charts = PAGE_TIMEOUT, f"{page}?{query}: {type(exc).__name__}", 0
        page = page or "home"
        tally.seconds.append(seconds)
        tally.by_page.setdefault(page, []).append(seconds)
        tally.charts.setdefault(page, []).append(charts)
        if error:
            tally.errors.append(error)


async def run_load(url: str, sessions: int, seconds: float, plan: list[tuple[str, str]]) -> Tally:
    tally = Tally()
    until = time.perf_counter() + seconds
    # Sessions start at different pages of the round, as users do.
    await asyncio.gather(*(session(url, plan, i * 3, until, tally) for i in range(sessions)))
    return tally


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(tally: Tally, sessions: int, seconds: float) -> str:
    times = tally.seconds
    lines = [
        f"{sessions} sessions for {seconds:.0f} s: {len(times)} page loads, "
        f"{len(times) / seconds:.2f} loads/s, p50 {statistics.median(times):.2f} s, "
        f"p95 {percentile(times, 0.95):.2f} s, errors {len(tally.errors)}",
        "",
        "| page | loads | p50 (s) | p95 (s) | charts per load |",
        "|---|---:|---:|---:|---:|",
    ]
    for page, values in sorted(tally.by_page.items()):
        charts = statistics.mean(tally.charts[page])
        lines.append(f"| {page} | {len(values)} | {statistics.median(values):.2f} | "
                     f"{percentile(values, 0.95):.2f} | {charts:.1f} |")  # fmt: skip
    lines += [f"error: {e}" for e in sorted(set(tally.errors))[:10]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--store", type=Path, help="store to serve (default: the default store)")
    parser.add_argument("--url", help="a Carta already served (then --store is not used)")
    parser.add_argument(
        "--compare", action="store_true", help="one process, then --replicas processes behind nginx"
    )
    parser.add_argument("--replicas", type=int, default=2)
    args = parser.parse_args()

    from carta.build import build_store
    from carta.store import DEFAULT_STORE, open_read_only, run_query
    from tests.browser.harness import start_server, stop_server

    store = args.store or DEFAULT_STORE
    if not args.url and not store.exists():
        build_store(store)
    con = open_read_only(store)
    try:
        patients = run_query(con, "patient_ids", search="", max_rows=50)["patient_id"].tolist()
    finally:
        con.close()
    if args.compare:
        return compare(store, patients, args.sessions, args.seconds, args.replicas)
    process = None
    url = args.url
    if not url:
        process, url = start_server(store)
    try:
        warm_up([url], patients)
        tally = asyncio.run(run_load(url, args.sessions, args.seconds, rounds(patients)))
    finally:
        if process:
            stop_server(process)
    print(report(tally, args.sessions, args.seconds))
    return 1 if tally.errors else 0


def warm_up(urls: list[str], patients: list[str]) -> None:
    """A server's first runs build its shared caches (the cohort, the safety picture): a start-up
    cost, timed apart, on each server. Patients' own pages stay cold until first visited."""
    for url in urls:
        started = time.perf_counter()
        for page, query in rounds(patients[:1]):
            asyncio.run(page_load(url, page, query))
        print(f"warm-up of {url}: one round of the five pages in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip


def compare(store: Path, patients: list[str], sessions: int, seconds: float, count: int) -> int:
    from bench.replicas import replicas
    from tests.browser.harness import start_server, stop_server

    process, url = start_server(store)
    try:
        warm_up([url], patients)
        one = asyncio.run(run_load(url, sessions, seconds, rounds(patients)))
    finally:
        stop_server(process)
    print("## One process\n\n" + report(one, sessions, seconds))
    with replicas(store, count) as farm:
        warm_up([f"http://127.0.0.1:{port}" for port in farm.ports], patients)
        before = farm.served()
        many = asyncio.run(run_load(farm.url, sessions, seconds, rounds(patients)))
        spread = farm.served() - before
    print(f"## {count} replicas behind nginx\n\n" + report(many, sessions, seconds))
    ratio = len(many.seconds) / max(len(one.seconds), 1)
    shares = ", ".join(f"{n:,}" for _, n in sorted(spread.items()))
    print(f"requests per replica through the proxy: {shares}")
    met = not one.errors and not many.errors and ratio >= 1.7
    print(f"{count} replicas: {ratio:.2f} x the loads/s of one process (target ≥ 1.7 x, 0 "
          f"errors): {'✓' if met else '✗ MISSED'}")  # fmt: skip
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
