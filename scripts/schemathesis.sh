#!/usr/bin/env bash
# Property-based tests of the registry server against its own OpenAPI document.
#
# Starts `handprint serve` on a fresh data directory and a free loopback port and publishes
# real sealed works on it (two creators, one disputed and withdrawn, public evidence), so
# answers with claims, events and proofs exist. Then:
#   1. the answers a generator cannot reach (publications, look-ups of a sealed image, the
#      soft-binding matches and manifest, the limits) are checked against the document:
#      their status, content type and body schema, and the status each case must have;
#   2. schemathesis runs on /openapi.json: no answer may be a server error (5xx), every
#      status must be one the document lists for the operation, and every content type and
#      body must match the document.
# Exits nonzero when either finds anything (or cannot run).
#
#   scripts/schemathesis.sh                  # build handprint (debug) and test it
#   HANDPRINT_BIN=path/to/handprint scripts/schemathesis.sh
#
# Settings (environment):
#   HANDPRINT_BIN            the handprint binary; built with `cargo build -p handprint-cli` if unset
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default 100)
#   SCHEMATHESIS_CHECKS      the checks (default: not_a_server_error, status_code_conformance,
#                            content_type_conformance, response_schema_conformance)
#   SCHEMATHESIS_SEED        a seed, to repeat a run
#   SCHEMATHESIS_ARGS        more arguments for `schemathesis run` (word-split)
#
# The signed operations (POST /v1/publications, DELETE /v1/works/{id}) are tested too: no
# generated request carries a valid signature, so they must answer 400 or 401, never 5xx.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SCHEMATHESIS_VERSION=4.32.5
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="$TARGET/schemathesis-venv"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-100}"
CHECKS="${SCHEMATHESIS_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}"

# (a) schemathesis, in a virtual environment of its own (kept between runs).
if [[ ! -x "$VENV/bin/schemathesis" ]] || [[ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" != *"$SCHEMATHESIS_VERSION"* ]]; then
    echo "schemathesis.sh: installing schemathesis $SCHEMATHESIS_VERSION in $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# (b) handprint.
if [[ -z "${HANDPRINT_BIN:-}" ]]; then
    cargo build --quiet -p handprint-cli
    HANDPRINT_BIN="$TARGET/debug/handprint"
fi
[[ -x "$HANDPRINT_BIN" ]] || { echo "schemathesis.sh: $HANDPRINT_BIN is not an executable" >&2; exit 2; }

# The seeding and the checks of (d), in Python (the virtual environment's, with jsonschema_rs).
write_checks() {
    cat <<'PYTHON'
import base64, json, math, pathlib, random, struct, subprocess, sys, urllib.error, urllib.parse, urllib.request, zlib

import jsonschema_rs

base, handprint, work = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
doc = json.load(urllib.request.urlopen(base + "/openapi.json"))
failures = []
checked = []


def png(w, h, seed):
    """A picture with smooth colour fields, discs and a little noise: texture for a watermark."""
    rnd = random.Random(seed)
    discs = [(rnd.uniform(0, w), rnd.uniform(0, h), rnd.uniform(w / 10, w / 3), [rnd.randrange(256) for _ in range(3)]) for _ in range(12)]
    rows = bytearray()
    for y in range(h):
        rows.append(0)
        for x in range(w):
            px = [128 + 60 * math.sin(x / 23.0 + seed), 128 + 60 * math.cos(y / 17.0), 128 + 50 * math.sin((x + y) / 31.0)]
            for cx, cy, r, c in discs:
                if (x - cx) ** 2 + (y - cy) ** 2 < r * r:
                    px = [(p + q) / 2 for p, q in zip(px, c)]
            rows.extend(max(0, min(255, int(p + rnd.gauss(0, 6)))) for p in px)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 6)) + chunk(b"IEND", b"")


def handprint_json(home, *args):
    out = subprocess.run([handprint, "--home", str(home), "--json", *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"checks: handprint {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def errors_of(schema, value):
    v = jsonschema_rs.Draft202012Validator({"components": doc["components"], **schema})
    return [f"at /{'/'.join(map(str, e.instance_path))}: {e.message[:300]}" for e in v.iter_errors(value)]


def validate(what, name, value):
    for e in errors_of({"$ref": f"#/components/schemas/{name}"}, value)[:5]:
        failures.append(f"{what}: {e}")


def call(method, path, body=None, headers=None):
    if body is not None and len(body) > 1 << 20:
        # The server refuses a body over its limit from its Content-Length, before reading
        # it, and closes: send the head alone and read the answer.
        import http.client
        host = urllib.parse.urlsplit(base).netloc
        c = http.client.HTTPConnection(host, timeout=60)
        c.putrequest(method, path)
        for k, v in (headers or {}).items():
            c.putheader(k, v)
        c.putheader("Content-Length", str(len(body)))
        c.endheaders()
        r = c.getresponse()
        return r.status, r.getheader("Content-Type", ""), r.read()
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def documented(method, template, status):
    r = doc["paths"][template][method.lower()]["responses"].get(str(status))
    if r and "$ref" in r:
        r = doc["components"]["responses"][r["$ref"].rsplit("/", 1)[-1]]
    return r


def check(method, template, path, want, body=None, headers=None):
    """Calls the server; the answer must have status `want`, and status, content type and
    body as the document says for `method template`."""
    status, ctype, data = call(method, path, body, headers)
    what = f"{method} {path[:120]} -> {status} {ctype}"
    checked.append(what)
    if status != want:
        failures.append(f"{what}: expected {want}: {data[:300]!r}")
    spec = documented(method, template, status)
    if spec is None:
        failures.append(f"{what}: status {status} not documented: {data[:300]!r}")
        return data
    media = ctype.split(";")[0].strip()
    content = spec.get("content", {})
    if media not in content:
        failures.append(f"{what}: content type not documented (documented: {', '.join(content)}): {data[:200]!r}")
        return data
    schema = content[media].get("schema")
    if media == "application/json" and schema:
        try:
            value = json.loads(data)
        except ValueError as e:
            failures.append(f"{what}: not JSON: {e}")
            return data
        for e in errors_of(schema, value)[:5]:
            failures.append(f"{what}: {e}")
    return data


def multipart(data):
    boundary = "handprintboundary7e3f"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"p.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


JSON = {"Content-Type": "application/json"}
picture = work / "picture.png"
picture.write_bytes(png(512, 512, 1))
evidence = work / "evidence"
(evidence / "sub").mkdir(parents=True)
(evidence / "notes.txt").write_text("sketches, then the painting\n")
(evidence / "sub" / "doc.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

# Ana seals and publishes the picture, with public evidence; Bob seals the same picture
# under his key: published, disputed (it matches Ana's), then withdrawn.
sealed = {}
for who, name in [("ana", "Ana Costa"), ("bob", "Bob Obi")]:
    home = work / who
    handprint_json(home, "init", "--name", name)
    handprint_json(home, "project", "new", "p")
    out = work / f"{who}.sealed.png"
    handprint_json(home, "seal", str(picture), "--import", "--source-type", "digitalCapture", "-p", "p", "--title", f"{name}'s picture", "-o", str(out))
    sealed[who] = out
first = handprint_json(work / "ana", "publish", str(sealed["ana"]), "--server", base, "--license", "CC-BY-4.0", "--evidence", str(evidence), "--public-evidence")
validate("publish (new)", "Published", first)
again = handprint_json(work / "ana", "publish", str(sealed["ana"]), "--server", base)
validate("publish (again)", "Published", again)
if again.get("new") is not False or again.get("checkpoint") is not None:
    failures.append(f"publishing the same image again: new {again.get('new')}, checkpoint {again.get('checkpoint')!r}")
bob = handprint_json(work / "bob", "publish", str(sealed["bob"]), "--server", base)
validate("publish (disputed)", "Published", bob)
if bob.get("status") != "disputed":
    failures.append(f"Bob's copy of Ana's picture: status {bob.get('status')!r}, expected disputed")
ana_id, bob_id = first["work"]["id"], bob["work"]["id"]
for n in range(2):
    validate(f"unpublish ({n})", "Withdrawn", handprint_json(work / "bob", "unpublish", str(bob_id), "--server", base))

ana_png = sealed["ana"].read_bytes()
PNG = {"Content-Type": "image/png"}
for wid in (ana_id, bob_id):
    check("GET", "/v1/works/{id}", f"/v1/works/{wid}", 200)
    check("GET", "/works/{id}", f"/works/{wid}", 200)
    check("GET", "/works/{id}/image", f"/works/{wid}/image", 200)
    check("GET", "/works/{id}/thumbnail.png", f"/works/{wid}/thumbnail.png", 200)
check("GET", "/works/{id}/evidence/{path}", f"/works/{ana_id}/evidence/notes.txt", 200)
check("GET", "/works/{id}/evidence/{path}", f"/works/{ana_id}/evidence/sub/doc.pdf", 200)
for image in (ana_png, picture.read_bytes()):
    found = json.loads(check("POST", "/v1/lookup", "/v1/lookup", 200, image, PNG))
    if not found.get("claims"):
        failures.append("a look-up of the published picture found no claim")
entries = json.loads(check("GET", "/v1/log/entries", "/v1/log/entries", 200))["entries"]
pdq = entries[0]["event"]["event"]["data"]["pdq"]
check("GET", "/v1/lookup", f"/v1/lookup?pdq={pdq}&radius=8", 200)
check("POST", "/v1/lookup/pdq", "/v1/lookup/pdq", 200, json.dumps({"hashes": [pdq, "0" * 64]}).encode(), JSON)
size = len(entries)
check("GET", "/v1/log/checkpoint", "/v1/log/checkpoint", 200)
check("GET", "/v1/log/key", "/v1/log/key", 200)
check("GET", "/v1/log/proof/inclusion", f"/v1/log/proof/inclusion?index=0&size={size}", 200)
check("GET", "/v1/log/proof/consistency", f"/v1/log/proof/consistency?old=1&new={size}", 200)
check("GET", "/sbr/services/supportedAlgorithms", "/sbr/services/supportedAlgorithms", 200)
watermark = urllib.parse.quote(base64.b64encode(bytes.fromhex(first["work"]["watermark_id"])).decode())
matches = json.loads(check("GET", "/sbr/matches/byBinding", f"/sbr/matches/byBinding?alg=org.handprint.watermark.1&value={watermark}", 200))["matches"]
if [m["manifestId"] for m in matches] != [first["publication"]["manifest_id"]]:
    failures.append(f"the soft binding of Ana's watermark: matches {matches}, expected her manifest")
pdq_value = base64.b64encode(bytes.fromhex(pdq)).decode()
check("POST", "/sbr/matches/byBinding", "/sbr/matches/byBinding?maxResults=1", 200, json.dumps({"alg": "org.handprint.pdq.1", "value": pdq_value}).encode(), JSON)
check("POST", "/sbr/matches/byContent", "/sbr/matches/byContent", 200, ana_png, PNG)
for m in matches:
    check("GET", "/sbr/manifests/{manifestId}", "/sbr/manifests/" + urllib.parse.quote(m["manifestId"], safe=""), 200)
for page in ("/", "/log"):
    check("GET", page, page, 200)
check("GET", "/healthz", "/healthz", 200)
check("GET", "/metrics", "/metrics", 200)

# The page's form: the picture, and an upload past the limit.
too_big = b"\x89PNG\r\n\x1a\n" + bytes(3 << 20)
check("POST", "/lookup", "/lookup", 200, *multipart(ana_png))
check("POST", "/lookup", "/lookup", 413, *multipart(too_big))

# What must be refused, and how.
U64_MAX = 2**64 - 1
refusals = [
    ("GET", "/v1/works/{id}", "/v1/works/0", 400, None, None),
    ("GET", "/v1/works/{id}", "/v1/works/99", 404, None, None),
    ("GET", "/works/{id}", "/works/99", 404, None, None),
    ("GET", "/works/{id}/evidence/{path}", f"/works/{ana_id}/evidence/.hidden", 400, None, None),
    ("GET", "/works/{id}/evidence/{path}", f"/works/{ana_id}/evidence/absent.txt", 404, None, None),
    ("GET", "/works/{id}/evidence/{path}", f"/works/{bob_id}/evidence/notes.txt", 404, None, None),
    ("POST", "/v1/publications", "/v1/publications", 401, b"{}", JSON),
    ("DELETE", "/v1/works/{id}", f"/v1/works/{ana_id}", 401, None, None),
    ("POST", "/v1/lookup", "/v1/lookup", 400, b"", {"Content-Type": "application/octet-stream"}),
    ("POST", "/v1/lookup", "/v1/lookup", 422, b"not an image", {"Content-Type": "application/octet-stream"}),
    ("POST", "/v1/lookup", "/v1/lookup", 413, too_big, {"Content-Type": "application/octet-stream"}),
    ("GET", "/v1/lookup", "/v1/lookup?pdq=xyz", 400, None, None),
    ("GET", "/v1/lookup", f"/v1/lookup?pdq={pdq}&radius=32", 400, None, None),
    ("POST", "/v1/lookup/pdq", "/v1/lookup/pdq", 400, json.dumps({"hashes": [pdq] * 1001}).encode(), JSON),
    ("POST", "/v1/lookup/pdq", "/v1/lookup/pdq", 400, b"{", JSON),
    ("GET", "/v1/log/entries", "/v1/log/entries?start=5&end=2", 400, None, None),
    ("GET", "/v1/log/entries", f"/v1/log/entries?start={U64_MAX}", 400, None, None),
    ("GET", "/v1/log/proof/inclusion", "/v1/log/proof/inclusion", 400, None, None),
    ("GET", "/v1/log/proof/inclusion", f"/v1/log/proof/inclusion?index={size}", 422, None, None),
    ("GET", "/v1/log/proof/consistency", "/v1/log/proof/consistency?old=0", 422, None, None),
    ("GET", "/sbr/matches/byBinding", "/sbr/matches/byBinding?alg=com.example.other.1&value=AAAA", 400, None, None),
    ("GET", "/sbr/matches/byBinding", "/sbr/matches/byBinding?alg=org.handprint.watermark.1&value=AAAA", 400, None, None),
    ("GET", "/sbr/matches/byBinding", f"/sbr/matches/byBinding?alg=org.handprint.watermark.1&value={watermark}&maxResults=0", 400, None, None),
    ("GET", "/sbr/matches/byBinding", "/sbr/matches/byBinding?alg=org.handprint.watermark.1&value=AAAA&maxResults=x", 400, None, None),
    ("POST", "/sbr/matches/byContent", "/sbr/matches/byContent", 415, b"hello", {"Content-Type": "text/plain"}),
    ("POST", "/sbr/matches/byContent", "/sbr/matches/byContent", 422, b"\x89PNG\r\n\x1a\n" + b"\0" * 64, PNG),
    ("POST", "/sbr/matches/byContent", "/sbr/matches/byContent", 413, too_big, PNG),
    ("GET", "/sbr/manifests/{manifestId}", "/sbr/manifests/absent", 404, None, None),
]
for method, template, path, want, body, headers in refusals:
    check(method, template, path, want, body, headers)

for f in failures:
    print(f"checks: FAIL {f}")
print(f"checks: {len(checked)} answers checked, {len(failures)} failures")
sys.exit(1 if failures else 0)
PYTHON
}

# (c) the server, on a data directory and a home of its own.
WORK="$(mktemp -d -t handprint-schemathesis.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/home" "$WORK/data"
# Port 0: the system picks a free port and the server prints the address it got.
# A 2 MiB upload limit: the checks send a body past it without building a large one.
HANDPRINT_HOME="$WORK/home" "$HANDPRINT_BIN" --json serve --data "$WORK/data" --listen 127.0.0.1:0 --rate 100000 \
    --max-upload-mib 2 \
    >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!

ADDR=""
for _ in $(seq 1 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "schemathesis.sh: the server stopped while starting:" >&2
        cat "$WORK/server.err" >&2
        exit 2
    fi
    ADDR="$(sed -n 's/.*"listening":"\([^"]*\)".*/\1/p' "$WORK/server.out" | head -n 1)"
    [[ -n "$ADDR" ]] && break
    sleep 0.1
done
[[ -n "$ADDR" ]] || { echo "schemathesis.sh: the server did not say where it listens" >&2; exit 2; }
BASE="http://$ADDR"
for _ in $(seq 1 100); do
    if "$VENV/bin/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$BASE/healthz" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
"$VENV/bin/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$BASE/healthz" \
    || { echo "schemathesis.sh: $BASE/healthz does not answer" >&2; exit 2; }
echo "schemathesis.sh: handprint serve at $BASE" >&2

# (d) real publications, and the answers schemathesis cannot reach, checked.
status=0
write_checks >"$WORK/checks.py"
"$VENV/bin/python" "$WORK/checks.py" "$BASE" "$HANDPRINT_BIN" "$WORK" || status=$?

# (e) schemathesis. One worker: the server's decode limit is the machine's cores, and parallel
# image uploads would be answered 503 (documented, but not what is being tested).
args=(
    run "$BASE/openapi.json"
    --checks "$CHECKS"
    --max-examples "$MAX_EXAMPLES"
    --workers 1
    --continue-on-failure
    --phases examples,coverage,fuzzing
    --request-timeout 30
    --generation-database none
    --no-color
)
if [[ -n "${SCHEMATHESIS_SEED:-}" ]]; then
    args+=(--seed "$SCHEMATHESIS_SEED")
fi
if [[ -n "${SCHEMATHESIS_ARGS:-}" ]]; then
    # shellcheck disable=SC2206
    args+=($SCHEMATHESIS_ARGS)
fi

# From the temporary directory: schemathesis keeps a cache of failures in the current one.
(cd "$WORK" && "$VENV/bin/schemathesis" "${args[@]}") || status=$?

# A panic is answered 500 and logged; show what the server logged.
if grep -q "panicked" "$WORK/server.err"; then
    echo "schemathesis.sh: the server logged:" >&2
    grep "panicked" "$WORK/server.err" | sort | uniq -c >&2
fi
exit "$status"
