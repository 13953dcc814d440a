#!/usr/bin/env bash
# Follows docs/ADMIN.md on a fresh Debian 12 (a debootstrap chroot): runs the guide's own
# shell blocks, found by their section's heading, with only these substitutions:
#   - the release is `make release` of this checkout's committed HEAD (tools/release.py),
#     copied to /root/sealdrop-release as the admin would; no node or npm in the chroot;
#   - the reviewers' USB stick is a directory with two freshly made public keys;
#   - `systemctl` lines start/stop the programs as the units do (a chroot has no systemd).
# Then it sends a submission through nginx (127.0.0.1:8080, in front of gunicorn's unix
# socket) and one as tor would (a PROXY line, on 127.0.0.1:8030), exports them, opens the
# bundle with the reviewer's key, purges, imports a replies bundle, installs a signed
# deployment statement and checks the service with sealdrop-verify (through a local SOCKS5
# stand-in for Tor: the chroot's tor cannot publish), shows that one altered byte fails it,
# and upgrades.
#
# Needs root, debootstrap, and network access to deb.debian.org and PyPI. Not part of
# `make test` (it takes several minutes): run it by hand after changing the guide or deploy/.
#   sudo tests/deploy/fresh-debian.sh [WORKDIR]     (default /var/tmp/sealdrop-fresh)
# Tor cannot reach the real Tor network from a test machine: the onion address is created,
# not published. tests/tor covers the path through Tor.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${1:-/var/tmp/sealdrop-fresh}
mkdir -p "$WORK"
ROOT=$WORK/root
BASE=$WORK/base        # an untouched debootstrap, reused between runs
PIDS=()

log() { printf '\n=== %s\n' "$*" >&2; }

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  umount "$ROOT/proc" 2>/dev/null || true
}
trap cleanup EXIT

if [ ! -x "$BASE/bin/bash" ]; then
  log "debootstrap Debian 12 into $BASE"
  debootstrap --variant=minbase --include=adduser,ca-certificates bookworm "$BASE" \
    http://deb.debian.org/debian >"$WORK/debootstrap.log"
fi
rm -rf "$ROOT"
cp -a "$BASE" "$ROOT"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d" # no service starts from apt
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
mount -t proc proc "$ROOT/proc"
log "make release (from the committed HEAD)"
rm -rf "$WORK/dist"
"$REPO/.venv/bin/python" "$REPO/tools/release.py" --out "$WORK/dist" >"$WORK/release.log" 2>&1 \
  || { cat "$WORK/release.log"; exit 1; }
mkdir -p "$ROOT/root/sealdrop-release"
cp "$WORK"/dist/* "$ROOT/root/sealdrop-release/"
WHEEL=$(ls "$WORK"/dist/sealdrop-*-py3-none-any.whl)
log "release: $(ls -l "$WORK/dist" | tail -n +2)"

# The guide's shell blocks: block HEADING N is the Nth (from 0) under the heading that starts
# with HEADING, so sections added elsewhere in the guide do not move them.
block() {
  python3 - "$REPO/docs/ADMIN.md" "$1" "$2" <<'EOF'
import re, sys
text, heading, index = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
sections = re.split(r"^(?=#{2,3} )", text, flags=re.M)
(section,) = [s for s in sections if s.startswith(heading)]
print(re.findall(r"```sh\n(.*?)```", section, re.DOTALL)[index])
EOF
}
# A machine that reaches PyPI and npm through a TLS-inspecting proxy names its CA bundle in
# SSL_CERT_FILE; the chroot then trusts the same bundle. Elsewhere this adds nothing.
CHROOT_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8)
if [ -n "${SSL_CERT_FILE:-}" ] && [ -f "$SSL_CERT_FILE" ]; then
  cp "$SSL_CERT_FILE" "$ROOT/root/host-ca.pem"
  for name in SSL_CERT_FILE PIP_CERT REQUESTS_CA_BUNDLE NODE_EXTRA_CA_CERTS; do
    CHROOT_ENV+=("$name=/root/host-ca.pem")
  done
fi
in_root() { chroot "$ROOT" /usr/bin/env -i "${CHROOT_ENV[@]}" /bin/bash -euo pipefail -c "$1"; }
run_block() {
  local text
  text=$(block "$1" "$2")
  log "ADMIN.md \"$1\" block $2:"$'\n'"$text"
  in_root "set -x; $text"
}

# What the units do, without systemd.
start_intake() {
  log "start gunicorn as sealdrop-intake.service does"
  in_root "install -d -o sealdrop -g sealdrop -m 0750 /run/sealdrop"   # sealdrop-intake.socket does this under systemd
  chroot "$ROOT" /usr/bin/setpriv --reuid sealdrop --regid sealdrop --init-groups \
    /bin/sh -c 'set -a; . /etc/sealdrop/sealdrop.env; cd /; exec /opt/sealdrop/venv/bin/gunicorn --config /etc/sealdrop/gunicorn.conf.py' \
    >"$WORK/gunicorn.log" 2>&1 &
  INTAKE_PID=$!
  PIDS+=("$INTAKE_PID")
  for _ in $(seq 100); do
    in_root "python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect(\"/run/sealdrop/gunicorn.sock\")'" \
      2>/dev/null && return 0
    kill -0 "$INTAKE_PID" || { cat "$WORK/gunicorn.log"; return 1; }
    sleep 0.2
  done
  return 1
}
stop_intake() { kill "$INTAKE_PID"; wait "$INTAKE_PID" || true; }
start_nginx() {
  log "start nginx as Debian's nginx.service does"
  in_root "nginx -t"
  chroot "$ROOT" /usr/sbin/nginx -g 'daemon off;' >"$WORK/nginx.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 100); do
    in_root "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", 8080), 1)'" \
      2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}
start_tor() {
  log "start tor as Debian's tor@default.service does"
  in_root "install -m 02755 -o debian-tor -g debian-tor -d /run/tor"
  in_root "tor --defaults-torrc /usr/share/tor/tor-service-defaults-torrc -f /etc/tor/torrc --RunAsDaemon 0 --verify-config"
  chroot "$ROOT" /usr/bin/tor --defaults-torrc /usr/share/tor/tor-service-defaults-torrc \
    -f /etc/tor/torrc --RunAsDaemon 0 --Log "notice stdout" \
    >"$WORK/tor.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 100); do
    [ -s "$ROOT/var/lib/tor/sealdrop/hostname" ] && return 0
    sleep 0.2
  done
  return 1
}

# The reviewers, on their offline machines (here: the host's checkout), make keys.
log "reviewers make their keys"
rm -rf "$WORK/offline"
mkdir -p "$ROOT/media/usb/alice" "$ROOT/media/usb/bob" "$WORK/offline"
for name in alice bob; do
  rm -rf "$WORK/offline/$name"
  printf 'correct horse battery %s\n' "$name" >"$WORK/offline/$name.pass"
  "$REPO/.venv/bin/sealdrop-reviewer" keygen --out "$WORK/offline/$name" --name "$name" \
    --passphrase-file "$WORK/offline/$name.pass" >/dev/null
  cp "$WORK/offline/$name/public.key" "$ROOT/media/usb/$name/public.key"
done

run_block "## 1. Install" 0   # packages, user, data dir, the release by hash
in_root "! command -v npm && ! command -v node" || { log "node or npm is on the server"; exit 1; }
in_root "ls /opt/sealdrop/venv/lib/python3*/site-packages/intake/static/js/app.js.gz"
in_root "/opt/sealdrop/venv/bin/sealdrop-intake --help >/dev/null"
run_block "## 1. Install" 1   # configuration files
run_block "## 1b. The front server" 0   # nginx
run_block "## 2. Add" 0   # alice's key, and its fingerprint
block "## 2. Add" 0 | sed 's/alice/bob/g' | { read -r a; read -r b; in_root "set -x; $a; $b"; }
log "edit /etc/sealdrop/sealdrop.env as section 2 says"
while IFS= read -r line; do
  [ -n "$line" ] || continue
  name=${line%%=*}
  in_root "sed -i 's|^$name=.*|$line|' /etc/sealdrop/sealdrop.env"
done < <(block "## 2. Add" 1)
in_root "cat /etc/sealdrop/sealdrop.env"
run_block "## 3. Initialise" 0   # init, check

log "ADMIN.md section 4 (systemctl), done by hand"
block "## 4. Start" 0
start_intake
start_nginx
start_tor
run_block "## 5. Read" 0   # the onion address
ONION=$(cat "$ROOT/var/lib/tor/sealdrop/hostname")
[[ $ONION =~ ^[a-z2-7]{56}\.onion$ ]]

log "a submission, as Tor Browser without JavaScript would send it"
in_root "python3 - <<'EOF'
import http.client, uuid
boundary = uuid.uuid4().hex
body = (f'--{boundary}\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\n'
        'hello from a fresh Debian 12\r\n'
        f'--{boundary}--\r\n').encode()
for port, first_line in ((8080, b''), (8030, b'PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 4242 80\\r\\n')):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
    c.connect()
    c.sock.sendall(first_line)
    c.request('POST', '/submit?lang=en', body, {'Content-Type': f'multipart/form-data; boundary={boundary}'})
    r = c.getresponse()
    print(r.status, dict(r.getheaders()))
    assert r.status == 200, r.status
    assert r.getheader('Server') is None
EOF"

mkdir -p "$ROOT/media/usb"
run_block "## 6. Export" 0   # status, export to the USB stick
BUNDLE=$(ls "$ROOT"/media/usb/*.sdbundle)
log "alice opens $BUNDLE offline"
"$REPO/.venv/bin/sealdrop-reviewer" open "$BUNDLE" --key "$WORK/offline/alice/identity.key" \
  --passphrase-file "$WORK/offline/alice.pass" --vault "$WORK/offline/vault"
"$REPO/.venv/bin/sealdrop-reviewer" list --vault "$WORK/offline/vault"
run_block "## 6. Export" 1   # the reviewers confirmed: delete the server's copy
run_block "## 7. Purge" 0
[ -z "$(ls -A "$ROOT/var/lib/sealdrop/blobs")" ]

log "a replies bundle comes back on the stick"
"$REPO/.venv/bin/python" - "$ROOT/media/usb/replies.tar" <<'EOF'
import io, sys
from crypto import seal_bytes
from crypto.bundle import BundleWriter, hour_stamp
from crypto.codename import new_codename
keys = new_codename('en').derive()
envelope = seal_bytes([keys.public_key], "we read you")
with open(sys.argv[1], "wb") as out:
    writer = BundleWriter(out, kind="replies")
    writer.add("r1", hour_stamp(), io.BytesIO(envelope), len(envelope), mailbox=keys.mailbox)
    writer.close()
EOF
run_block "## 11. Carry" 0
in_root "sealdrop-admin status" | tee "$WORK/status.txt"
grep -q "replies waiting to be read: 1" "$WORK/status.txt"

log "the organisation signs a deployment statement offline"
printf 'organisation passphrase\n' >"$WORK/offline/org.pass"
"$REPO/.venv/bin/sealdrop-reviewer" signing-keygen --out "$WORK/offline/org" \
  --passphrase-file "$WORK/offline/org.pass" >/dev/null
"$REPO/.venv/bin/sealdrop-reviewer" sign-deployment --key "$WORK/offline/org/signing.key" \
  --onion "$ONION" --assets "$WHEEL" --recipient "$WORK/offline/alice/public.key" \
  --recipient "$WORK/offline/bob/public.key" --out "$ROOT/media/usb/deployment-statement" \
  --passphrase-file "$WORK/offline/org.pass"
run_block "## 12. The deployment statement" 0
ORG_KEY=$(grep '^sdsig1' "$WORK/offline/org/signing.pub")
log "sealdrop-verify, outside the server, through a SOCKS5 stand-in for Tor"
(cd "$REPO" && exec .venv/bin/python -c '
import sys, time
from tests.verify.socks_server import SocksServer
with SocksServer(("127.0.0.1", 8080)) as server:
    print(server.address, flush=True)
    time.sleep(3600)
' >"$WORK/socks.addr") &
PIDS+=("$!")
for _ in $(seq 50); do [ -s "$WORK/socks.addr" ] && break; sleep 0.1; done
SOCKS=$(cat "$WORK/socks.addr")
"$REPO/.venv/bin/sealdrop-verify" "http://$ONION/" --key "$ORG_KEY" --socks "$SOCKS"
log "one altered byte in a served script must fail sealdrop-verify and sealdrop-admin check"
WORKER=$(ls "$ROOT"/opt/sealdrop/venv/lib/python3*/site-packages/intake/static/js/worker.js)
cp "$WORKER" "$WORK/worker.js.orig"
printf 'X' | dd of="$WORKER" bs=1 seek=100 conv=notrunc 2>/dev/null
if "$REPO/.venv/bin/sealdrop-verify" "http://$ONION/" --key "$ORG_KEY" --socks "$SOCKS" --quiet \
  >"$WORK/verify-altered.txt"; then
  log "sealdrop-verify did not notice the altered byte"; exit 1
fi
cat "$WORK/verify-altered.txt"
grep -q "^FAIL: asset js/worker.js: the plain bytes served differ" "$WORK/verify-altered.txt"
in_root "sealdrop-admin check --quiet" >"$WORK/check-altered.txt" 2>&1 && exit 1
grep -q "static/js/worker.js differs from the release" "$WORK/check-altered.txt"
cp "$WORK/worker.js.orig" "$WORKER"

log "ADMIN.md section 9 (upgrade), systemctl lines done by hand"
upgrade=$(block "## 9. Upgrade" 0)
upgrade=${upgrade//systemctl stop sealdrop-intake/true}
upgrade=${upgrade//systemctl start sealdrop-intake/true}
stop_intake
in_root "set -x; $upgrade"
start_intake
in_root "python3 -c 'import urllib.request; r = urllib.request.urlopen(\"http://127.0.0.1:8080/?lang=en\"); assert r.status == 200'"
"$REPO/.venv/bin/sealdrop-verify" "http://$ONION/" --key "$ORG_KEY" --socks "$SOCKS" --quiet

log "gunicorn's and nginx's logs (should hold nothing about requests):"
cat "$WORK/gunicorn.log" "$WORK/nginx.log"
in_root "cat /var/log/nginx/sealdrop-error.log; test ! -s /var/log/nginx/sealdrop-error.log"
in_root "test -z \"\$(find /var/lib/nginx -type f)\""   # no body or reply spooled
log "fresh Debian 12: the guide works (onion address $ONION; wheel $(stat -c %s "$WHEEL") bytes)"
