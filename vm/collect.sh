#!/usr/bin/env bash
# Collect real can_migrate_task() decisions from a Debian kernel (6.1, 6.12
# or 7.x) in a QEMU (TCG) guest. See vm/README.md.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: vm/collect.sh --out DIR [--kernel 6.1|6.12|7] [--seconds N]
                     [--layout 2socket|4node] [--load 50,100,200] [--seed S]
                     [--timeout S]

Boots Debian's current kernel of a line (fetched with apt-get download, cached
under ${KMLB_CACHE:-${XDG_CACHE_HOME:-~/.cache}/kmlb}, never installed) in an
8-vCPU QEMU guest,
runs one workload phase per load level (in % of the 8 vCPUs) while the eBPF
collector records every call of can_migrate_task(), and writes into DIR:
  raw-<load>.csv   one file per phase (raw schema, docs/raw-schema.md)
  raw.csv          all phases, one header
  phases.json      per phase: rows and their range in raw.csv (1-based data rows)
  summary.json     kernel, topology, rows, drops, class shares, timings
  logs/            serial console, guest dmesg, collector stderr

  --kernel L    6.1:  bookworm's linux-image-amd64 (default)
                6.12: bookworm-backports' linux-image-amd64
                7:    trixie-backports' linux-image-amd64 (7.x)
                (6.12 and 7 through a private apt configuration in the cache)
  --seconds N   workload seconds per phase (default 60)
  --layout L    2socket: 2 sockets x 2 cores x 2 SMT, 2 NUMA nodes (default)
                4node:   4 sockets x 1 core x 2 SMT, 4 NUMA nodes, distance 20
  --load LIST   load phases in % (default 50,100,200)
  --seed S      workload seed (default 1)
  --timeout S   hard limit per boot in seconds (default: computed)

examples:
  vm/collect.sh --seconds 60 --out runs/2s
  vm/collect.sh --kernel 6.12 --seconds 60 --out runs/2s-6.12
  vm/collect.sh --seconds 120 --layout 4node --load 100,200 --out runs/4n
EOF
}

secs=60 out='' kline=6.1 layout=2socket loads=50,100,200 seed=1 limit=''
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) secs=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--layout) layout=${2:?}; shift 2 ;;
	--kernel) kline=${2:?}; shift 2 ;;
	--load | --loads) loads=${2:?}; shift 2 ;;
	--seed) seed=${2:?}; shift 2 ;;
	--timeout) limit=${2:?}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[ -n "$out" ] || { usage >&2; exit 2; }
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
	echo "--seconds: positive integer" >&2
	exit 2
fi
[[ "$loads" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "--load: list like 50,100,200" >&2; exit 2; }
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "--seed: integer" >&2; exit 2; }
case "$layout" in 2socket | 4node) ;; *) echo "--layout: 2socket or 4node" >&2; exit 2 ;; esac
case "$kline" in 6.1 | 6.12 | 7) ;; 7.*) kline=7 ;; *) echo "--kernel: 6.1, 6.12 or 7" >&2; exit 2 ;; esac

trap 'echo "vm/collect.sh: failed at line $LINENO" >&2' ERR

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

nphases=$(echo "$loads" | tr ',' '\n' | wc -l)
# boot + per phase (attach, workload, drain) + tar, with a wide margin for TCG
[ -n "$limit" ] || limit=$((180 + nphases * (secs + 90)))

ensure_tools
qemu_usable || die "qemu-system-x86_64 cannot run on this machine"
fetch_kernel "$kline"

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
build_guest "$work"
topology_flags "$layout"
# Retry a guest that hangs after init: no kmlb code runs in its kernel, the
# collector's BPF programs are the kernel's own verified kind, and a hang
# (seen once in CI: QEMU multi-threaded TCG) loses only time. Counted in
# summary.json (hung_boots).
booted=1
KMLB_RETRY_HUNG=1 boot_guest "$work" "$limit" "kmlb.loads=$loads kmlb.seconds=$secs kmlb.seed=$seed" 1G ||
	booted=0

g=$work/guest
env_get() { sed -n "s/^$1=//p" "$g/guest.env" | head -n 1; }
stat_get() { # FILE KEY: value of KEY=... in the collector's final line
	sed -n "s/^kmlb_collect: rows=.*\<$2=\([0-9.]*\).*/\1/p" "$1" | head -n 1
}
publish() { mv -f "$1" "$out/$2"; } # atomic within one file system

# logs first, so that a failed run can be diagnosed
mkdir -p "$out/logs"
for f in "$work"/serial*.log "$g"/dmesg.txt "$g"/guest.env "$g"/guest.log "$g"/collect-*.err; do
	[ -f "$f" ] || continue
	cp "$f" "$out/logs/.$(basename "$f").tmp"
	publish "$out/logs/.$(basename "$f").tmp" "logs/$(basename "$f")"
done
[ $booted = 1 ] || die "the guest never passed init in $KMLB_ATTEMPTS boots (see $out/logs/serial-stalled-boot-*.log)"
[ "$KMLB_FINISHED" = 1 ] ||
	die "the guest did not finish in ${limit}s after $KMLB_ATTEMPTS boots (see $out/logs/serial*.log)"

# per-phase files, raw.csv, phases.json
header=
first=1 total=0 total_drops=0 phases_json='' summary_phases='' fail=0
: >"$work/raw.csv.body"
for load in $(echo "$loads" | tr ',' ' '); do
	f=$g/raw-$load.csv
	err=$g/collect-$load.err
	if [ ! -f "$f" ]; then
		log "phase load=$load produced no CSV"
		fail=1
		continue
	fi
	h=$(head -n 1 "$f")
	[ -n "$header" ] || header=$h
	[ "$h" = "$header" ] || die "header of raw-$load.csv differs"
	rows=$(($(wc -l <"$f") - 1))
	tail -n +2 "$f" >>"$work/raw.csv.body"
	read -r yes no badcols < <(awk -F, 'NR > 1 { if (NF != 57) bad++; if ($28 == 1) y++; else if ($28 == 0) n++ }
		END { printf "%d %d %d\n", y, n, bad }' "$f")
	[ "$badcols" = 0 ] || { log "raw-$load.csv: $badcols rows without 57 columns"; fail=1; }
	drops=$(stat_get "$err" drops)
	unpaired=$(stat_get "$err" unpaired)
	csecs=$(stat_get "$err" seconds)
	rps=$(stat_get "$err" rows_per_s)
	threads=$(sed -n "s/^KMLB-PHASE load=$load threads=\([0-9]*\).*/\1/p" "$work/serial.log" | head -n 1)
	last=$((first + rows - 1))
	share=$(awk -v y="$yes" -v r="$rows" 'BEGIN { printf "%.4f", r ? y / r : 0 }')
	phases_json+="${phases_json:+,
}  {\"load_pct\": $load, \"threads\": ${threads:-0}, \"file\": \"raw-$load.csv\", \"rows\": $rows, \"first_row\": $first, \"last_row\": $last}"
	summary_phases+="${summary_phases:+,
}    {\"load_pct\": $load, \"threads\": ${threads:-0}, \"rows\": $rows, \"drops\": ${drops:-0}, \"unpaired\": ${unpaired:-0}, \"collector_seconds\": ${csecs:-0}, \"rows_per_s\": ${rps:-0}, \"can_migrate_1\": $yes, \"can_migrate_0\": $no, \"share_can_migrate_1\": $share}"
	first=$((last + 1))
	total=$((total + rows))
	total_drops=$((total_drops + ${drops:-0}))
	cp "$f" "$work/raw-$load.csv.tmp"
done
[ -n "$header" ] || die "no phase produced data (see $out/logs)"

{ echo "$header"; cat "$work/raw.csv.body"; } >"$work/raw.csv.tmp"
printf '[\n%s\n]\n' "$phases_json" >"$work/phases.json.tmp"

yes_all=$(awk -F, 'NR > 1 && $28 == 1 { y++ } END { print y + 0 }' "$work/raw.csv.tmp")
share_all=$(awk -v y="$yes_all" -v r="$total" 'BEGIN { printf "%.4f", r ? y / r : 0 }')
node_cpus=$(sed -n 's/^node\([0-9]*\)_cpus=\(.*\)/"\2"/p' "$g/guest.env" | paste -sd, -)
case "$layout" in
2socket) topo='"sockets": 2, "cores_per_socket": 2, "threads_per_core": 2' ;;
4node) topo='"sockets": 4, "cores_per_socket": 1, "threads_per_core": 2' ;;
esac
cat >"$work/summary.json.tmp" <<EOF
{
  "schema": "kmlb-vm-summary",
  "version": 1,
  "kernel": "$(env_get uname_r)",
  "kernel_line": "$KMLB_KERNEL_LINE",
  "kernel_release": "$(env_get uname_r)",
  "kernel_package": "$(basename "$KMLB_KERNEL_DIR")",
  "layout": "$layout",
  "topology": {$topo, "vcpus": $(env_get ncpu), "numa_nodes": $(env_get nodes), "node_cpus": [$node_cpus], "sched_domains": "$(env_get domains | sed 's/ *$//')"},
  "counters": {$(sed -n 's/^kmlb_collect: counters source=\([a-z]*\) pc_0=\([a-z-]*\) pc_1=\([a-z-]*\) why="\(.*\)"$/"source": "\1", "pc_0": "\2", "pc_1": "\3", "why": "\4"/p' "$g"/collect-*.err | head -n 1)},
  "numa_balancing": $(env_get numa_balancing),
  "migration_cost_ns": $(env_get migration_cost_ns),
  "seconds_per_phase": $secs,
  "seed": $seed,
  "rows": $total,
  "drops": $total_drops,
  "can_migrate_1": $yes_all,
  "share_can_migrate_1": $share_all,
  "boot_seconds_to_init": ${KMLB_BOOT_UPTIME_S:-0},
  "wall_seconds": $KMLB_WALL_S,
  "boot_attempts": $KMLB_ATTEMPTS,
  "stalled_boots": $KMLB_STALLED_BOOTS,
  "hung_boots": $KMLB_HUNG_BOOTS,
  "guest_rc": ${KMLB_GUEST_RC:-1},
  "phases": [
$summary_phases
  ]
}
EOF

for load in $(echo "$loads" | tr ',' ' '); do
	if [ -f "$work/raw-$load.csv.tmp" ]; then
		publish "$work/raw-$load.csv.tmp" "raw-$load.csv"
	fi
done
publish "$work/raw.csv.tmp" raw.csv
publish "$work/phases.json.tmp" phases.json
publish "$work/summary.json.tmp" summary.json

log "$total rows ($share_all can_migrate=1), $total_drops drops, kernel $(env_get uname_r), ${KMLB_WALL_S}s -> $out"
if [ "${KMLB_GUEST_RC:-1}" != 0 ] || [ "$fail" != 0 ] || [ "$total_drops" != 0 ]; then
	log "guest rc=${KMLB_GUEST_RC:-?}, drops=$total_drops: see $out/logs"
	exit 1
fi
