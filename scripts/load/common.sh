# Shared by the load scripts (sourced, not run): waiting for a server, and how much CPU time
# the machine's hypervisor took away from us while we measured.

wait_healthy() { # url pid
    for _ in $(seq 1 300); do
        curl -sf "$1" >/dev/null 2>&1 && return 0
        kill -0 "$2" 2>/dev/null || { echo "$(basename "$0"): server exited" >&2; return 1; }
        sleep 0.2
    done
    echo "$(basename "$0"): $1 never answered" >&2
    return 1
}

# The machine's CPU tick counters (the `cpu` line of /proc/stat, without its label).
machine_ticks() {
    awk '/^cpu / {$1 = ""; print}' /proc/stat
}

# The share of the CPU time between two machine_ticks snapshots that the hypervisor gave to other
# guests ("steal"), in percent. On a virtual machine, stolen time stalls the server and the
# load generator alike for whole milliseconds, and shows in every latency tail measured then.
steal_percent() { # before after
    awk -v before="$1" -v after="$2" 'BEGIN {
        n = split(before, b, " "); split(after, a, " ")
        for (i = 1; i <= n; i++) total += a[i] - b[i]
        printf "%.1f", (total > 0 ? 100 * (a[8] - b[8]) / total : 0)
    }'
}
