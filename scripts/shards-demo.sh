#!/usr/bin/env bash
# A registry whose search index is held in parts by matcher processes, on this machine: a
# throwaway PostgreSQL (scripts/with-postgres.sh) as the store of record, three
# `handprint match --part I/3`, one `handprint serve --matchers`, and N works published
# (the quarters of the three Kodak photographs, sealed by one creator). Then look-ups run
# without a pause — strangers' copies (a 90% crop re-encoded as JPEG, POST /v1/lookup) and
# PDQ hashes (GET /v1/lookup?pdq) — while the matcher of part 1 is killed with SIGKILL and,
# a while later, started again. Printed per second: answers complete, partial (and whether
# the work was still found, or its part was named missing), and wrong (a complete answer
# without the work, or a partial one that does not name the work's part: a silent miss).
# A publication made while the part is down is refused with 503, and made again after.
# Usage: scripts/shards-demo.sh [SECONDS_BEFORE_KILL [SECONDS_DOWN [SECONDS_AFTER]]]
#        (default 5 6 5). Needs python3 with Pillow for the tiles and copies.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${HANDPRINT_TEST_POSTGRES:-}" ]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi
before=${1:-5} down=${2:-6} after=${3:-5}
cargo build --quiet --bin handprint
bin="${CARGO_TARGET_DIR:-target}/debug/handprint"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# The registry's store; the creator's journal stays in their own data directory.
db=$HANDPRINT_TEST_POSTGRES
unset HANDPRINT_DATABASE
export HANDPRINT_HOME=$work/creator

echo "== the works: quarters of three photographs, sealed"
python3 - "$work" <<'EOF'
import sys
from PIL import Image
out = sys.argv[1]
n = 0
for name in ["kodim01", "kodim03", "kodim04"]:
    photo = Image.open(f"crates/fingerprint/tests/data/{name}.png").convert("RGB")
    w, h = photo.width // 2, photo.height // 2
    for top in (0, h):
        for left in (0, w):
            photo.crop((left, top, left + w, top + h)).save(f"{out}/tile{n:02d}.png")
            n += 1
EOF
"$bin" init --name "Demo Creator" >/dev/null
"$bin" project new works >/dev/null
tiles=("$work"/tile??.png)
for t in "${tiles[@]}"; do
  "$bin" seal "$t" --project works --title "$(basename "$t" .png)" --import \
    --source-type digitalCapture --out "${t%.png}.sealed.png" >/dev/null
done
# The last is published while a matcher is down, then again once it is back.
late="${tiles[-1]%.png}.sealed.png"
unset 'tiles[-1]'
echo "$((${#tiles[@]} + 1)) works sealed"

# Starts `handprint ARGS`, waits for the line it prints once it listens, and prints it.
start() {
  local out="$work/out.$RANDOM"
  HANDPRINT_DATABASE=$db "$bin" --json "$@" >"$out" 2>>"$work/stderr.log" &
  echo $! >"$out.pid"
  for _ in $(seq 600); do [ -s "$out" ] && break; sleep 0.1; done
  [ -s "$out" ] || { echo "handprint $* did not start" >&2; cat "$work/stderr.log" >&2; exit 1; }
  echo "$(cat "$out.pid") $(head -1 "$out")"
}

echo "== the store, three matchers, the server"
# The server creates the store and its identity first; it restarts below with the matchers.
line=$(start serve --data "$work/server" --listen 127.0.0.1:0)
pids+=("${line%% *}")
kill "${line%% *}"
wait "${line%% *}" 2>/dev/null || true
urls=() matcher_pids=() matcher_addrs=()
for part in 0 1 2; do
  line=$(start match --part "$part/3" --listen 127.0.0.1:0 --data "$work/server")
  addr=$(echo "${line#* }" | jq -r .listening)
  pids+=("${line%% *}") matcher_pids+=("${line%% *}") matcher_addrs+=("$addr") urls+=("http://$addr")
  echo "matcher of part $part/3 at $addr (pid ${line%% *})"
done
line=$(start serve --data "$work/server" --listen 127.0.0.1:0 --rate 100000 \
  --matchers "$(IFS=,; echo "${urls[*]}")")
pids+=("${line%% *}")
url="http://$(echo "${line#* }" | jq -r .listening)"
echo "server at $url, asking ${urls[*]}"

echo "== publishing (each found through the matchers before the next)"
: >"$work/works.tsv"
for t in "${tiles[@]}"; do
  sealed="${t%.png}.sealed.png"
  if answer=$("$bin" --json publish "$sealed" --server "$url"); then
    echo -e "$(echo "$answer" | jq -r .work.id)\t$sealed" >>"$work/works.tsv"
  else
    echo "(not published: $(basename "$sealed"))"
  fi
done
python3 - "$url" "$work/works.tsv" <<'EOF'
import json, sys, time, urllib.request
url, works = sys.argv[1], [l.split("\t") for l in open(sys.argv[2]).read().split("\n") if l]
held = {}
for i, _ in works:
    held[int(i) % 3] = held.get(int(i) % 3, 0) + 1
print(f"{len(works)} works published; parts hold {held[0]}, {held.get(1, 0)}, {held.get(2, 0)}")
EOF

echo "== look-ups while the matcher of part 1 is killed (SIGKILL) and restarted"
HANDPRINT_DATABASE=$db python3 - "$url" "$work/works.tsv" "$bin" "$work" "${matcher_pids[1]}" "${matcher_addrs[1]}" \
  "$before" "$down" "$after" "$late" <<'EOF'
import io, json, os, signal, subprocess, sys, threading, time, urllib.request
from PIL import Image

url, works_file, binary, work, pid, addr = sys.argv[1:7]
before, down, after = (float(a) for a in sys.argv[7:10])
late = sys.argv[10]
works = [(int(i), p) for i, p in (l.split("\t") for l in open(works_file).read().split("\n") if l)]

# What strangers and platforms send: a copy (90% of the work, JPEG), and a PDQ hash (the one
# the registry published for the work, in its `published` event).
hashes, copies = {}, {}
for i, path in works:
    img = Image.open(path).convert("RGB")
    w, h = img.size
    buf = io.BytesIO()
    img.crop((w // 20, h // 20, w - w // 20, h - h // 20)).save(buf, "JPEG", quality=85)
    copies[i] = buf.getvalue()
for i, _ in works:
    hashes[i] = json.loads(urllib.request.urlopen(f"{url}/v1/works/{i}").read())["published_event"]["event"]["data"]["pdq"]

counts = {}
lock = threading.Lock()
start = time.time()
stop = threading.Event()

def record(kind):
    second = int(time.time() - start)
    with lock:
        c = counts.setdefault(second, {})
        c[kind] = c.get(kind, 0) + 1

def judge(work, answer, by):
    found = any(c["work"]["id"] == work and by in c["found_by"] for c in answer["claims"])
    part = work % 3
    if not answer.get("partial", False):
        return "complete" if found else "WRONG"
    if found:
        return "partial, found"
    return "partial, part named" if part in answer["missing_parts"] else "WRONG"

def loop(kind):
    k = 0
    while not stop.is_set():
        i, _ = works[k % len(works)]
        k += 1
        try:
            if kind == "image":
                r = urllib.request.urlopen(urllib.request.Request(url + "/v1/lookup", data=copies[i], method="POST"), timeout=30)
                record(judge(i, json.loads(r.read()), "fingerprint"))
            else:
                r = urllib.request.urlopen(f"{url}/v1/lookup?pdq={hashes[i]}&radius=0", timeout=30)
                record(judge(i, json.loads(r.read()), "pdq"))
        except Exception as e:  # an error answer or none at all
            record("error")

threads = [threading.Thread(target=loop, args=(k,)) for k in ("image", "pdq", "pdq")]
for t in threads:
    t.start()
events = {}

def event(text):
    events.setdefault(int(time.time() - start), []).append(text)

time.sleep(before)
os.kill(int(pid), signal.SIGKILL)
event("matcher 1/3 killed (SIGKILL)")
time.sleep(down / 2)
# A publication while part 1 is down: refused, not published without its dispute check.
creator = {k: v for k, v in os.environ.items() if k != "HANDPRINT_DATABASE"}
refused = subprocess.run([binary, "publish", late, "--server", url], capture_output=True, text=True, env=creator)
event("publication while part 1 is down: " + (
    "refused: " + refused.stderr.strip().splitlines()[-1][:240] if refused.returncode else "PUBLISHED (wrong)"))
time.sleep(down / 2)
restarted = subprocess.Popen([binary, "--json", "match", "--part", "1/3", "--listen", addr, "--data",
                              os.path.join(work, "server")], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
event("matcher 1/3 restarted, rebuilding from PostgreSQL")
ready = json.loads(restarted.stdout.readline())
event(f"matcher 1/3 ready again with {ready['works']} works")
t0 = time.time()
published = subprocess.run([binary, "--json", "publish", late, "--server", url], capture_output=True, text=True,
                           env=creator)
new = json.loads(published.stdout)["work"]["id"]
pdq = json.loads(urllib.request.urlopen(f"{url}/v1/works/{new}").read())["published_event"]["event"]["data"]["pdq"]
while True:
    a = json.loads(urllib.request.urlopen(f"{url}/v1/lookup?pdq={pdq}&radius=0").read())
    if any(c["work"]["id"] == new for c in a["claims"]):
        break
    time.sleep(0.01)
event(f"published again: work {new} (part {new % 3}/3), found through the matchers "
      f"{time.time() - t0:.2f} s after publishing")
time.sleep(after)
stop.set()
for t in threads:
    t.join()
restarted.kill()

kinds = ["complete", "partial, found", "partial, part named", "WRONG", "error"]
print("second  " + "  ".join(f"{k:>19}" for k in kinds))
total = {k: 0 for k in kinds}
for second in sorted(counts):
    row = counts[second]
    for k in kinds:
        total[k] += row.get(k, 0)
    print(f"{second:>6}  " + "  ".join(f"{row.get(k, 0):>19}" for k in kinds))
    for text in events.get(second, []):
        print(f"        ^ {text}")
print(" total  " + "  ".join(f"{total[k]:>19}" for k in kinds))
sys.exit(1 if total["WRONG"] or total["error"] else 0)
EOF
