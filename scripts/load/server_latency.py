"""The server's own time per answer over a run, from two scrapes of its `GET /metrics`.

qualify's `qualify_http_request_duration_seconds` histogram times each answer inside the
server (from the request's arrival in the router to the response head), so the difference of
two scrapes taken around a load run is that run's distribution of the server's own time,
without the time a request waited in a socket or for a core. Its buckets double from 25 µs,
so a quantile is reported as the bucket's upper bound ("<= 0.2 ms").

usage: server_latency.py BEFORE AFTER ROUTE   (prints "p50<=X p99<=Y", in ms)
"""

import re
import sys

BUCKET = re.compile(
    r'^qualify_http_request_duration_seconds_bucket\{(?P<labels>[^}]*)\} (?P<count>\d+)$'
)


def buckets(path, route):
    counts = {}
    for line in open(path):
        match = BUCKET.match(line.strip())
        if not match:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"]))
        if labels.get("route") == route:
            counts[float(labels["le"])] = int(match["count"])
    return counts


def main():
    before, after, route = sys.argv[1:4]
    start, end = buckets(before, route), buckets(after, route)
    if not end:
        sys.exit(f"server_latency: no latency histogram for route {route} in {after}")
    cumulative = sorted((le, end[le] - start.get(le, 0)) for le in end)
    total = cumulative[-1][1]
    if total == 0:
        sys.exit(f"server_latency: no answers on {route} between the two scrapes")

    def bound(quantile):
        for le, count in cumulative:
            if count >= quantile * total:
                return "inf" if le == float("inf") else f"{le * 1e3:g}"
        return "inf"

    print(f"p50<={bound(0.5)} p99<={bound(0.99)}")


main()
