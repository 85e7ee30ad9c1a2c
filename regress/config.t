#!/bin/sh
# omnid -n end to end: the parent opens the file, the sandboxed parser
# child parses it; broken configs are rejected with FILE:LINE:COL and
# the expected message (each regress/conf/bad-*.yaml names its own in
# an "# expect:" line), unsafe file permissions are refused, good
# configs print in normalised form.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
require_root
D=$(mktemp -d /tmp/omni-conf.XXXXXX)
trap 'rm -rf "$D"' EXIT

for f in "$TOP"/regress/conf/bad-*.yaml; do
	b=$(basename "$f")
	want=$(sed -n 's/^# expect: //p' "$f" | head -n 1)
	install -m 0600 "$f" "$D/$b"
	out=$("$OMNID" -n -f "$D/$b" 2>&1)
	rc=$?
	case "$out" in
	*"$D/$b:$want"*) match=0 ;;
	*) match=1 ;;
	esac
	ok $([ $rc -eq 1 ] && [ $match -eq 0 ]; echo $?) "$b: rejected with \"$want\""
	[ $match -eq 0 ] || echo "# got (exit $rc): $out"
done

# Good configs may name secret files: point them at one of ours.
printf 'fedcba9876543210\n' > "$D/s.secret"
chmod 0600 "$D/s.secret"
for f in "$TOP"/regress/conf/good-full.yaml "$TOP"/regress/conf/good-flow.yaml \
    "$TOP"/regress/conf/good-minimal.yaml "$TOP/etc/omni.conf"; do
	b=$(basename "$f")
	sed "s|^\( *secret-file:\) .*|\1 $D/s.secret|; s|^user: .*|user: _omnid|" \
	    "$f" > "$D/$b"
	chmod 0600 "$D/$b"
	out=$("$OMNID" -n -f "$D/$b" 2>&1)
	ok $? "$b: accepted"
done

# The normalised output names every default.
out=$("$OMNID" -n -f "$D/good-minimal.yaml" 2>/dev/null)
for k in "user: _omnid" "control-socket: /var/run/omnid.sock" \
    "listen: 0.0.0.0:51900" "listen-port: 51820" "mtu: 1420" \
    "keepalive: 25" "backend: auto" "secret: (hidden)" \
    "identity: /var/lib/omni/omni0.key" "- 198.18.0.1:51900" \
    "max-edges: 65536" "max-clusters: 4096" "rate-limit: 10000"; do
	echo "$out" | grep -qF -- "$k"
	ok $? "omnid -n prints the default \"$k\""
done

# The nucleus's capacity keys come back as given.
out=$("$OMNID" -n -f "$D/good-full.yaml" 2>/dev/null)
for k in "max-edges: 2100000" "max-clusters: 65536" "rate-limit: 200000"; do
	echo "$out" | grep -qxF -- "  $k"
	ok $? "omnid -n prints the nucleus's \"$k\""
done
echo "$out" | grep -q "0123456789abcdef"
ok $([ $? -ne 0 ]; echo $?) "omnid -n never prints a secret"

# Permissions: the parent refuses files others could change or read.
install -m 0606 "$TOP/regress/conf/good-minimal.yaml" "$D/ww.yaml"
out=$("$OMNID" -n -f "$D/ww.yaml" 2>&1)
echo "$out" | grep -q "writable by others"
ok $? "a world-writable config is refused: $out"
install -m 0644 "$TOP/regress/conf/good-minimal.yaml" "$D/wr.yaml"
out=$("$OMNID" -n -f "$D/wr.yaml" 2>&1)
echo "$out" | grep -q "holds secrets and is readable by others"
ok $? "a world-readable config with secrets is refused: $out"
out=$("$OMNID" -n -f "$D/missing.yaml" 2>&1)
rc=$?
ok $([ $rc -eq 1 ] && echo "$out" | grep -q "No such file"; echo $?) "a missing config is reported: $out"

# A secret file instead of an inline secret: readable by others is refused.
printf 'fedcba9876543210\n' > "$D/lab.secret"
chmod 0644 "$D/lab.secret"
cat > "$D/sf.yaml" <<EOT
interfaces:
  - name: omni0
    cluster: lab
    secret-file: $D/lab.secret
    address: 10.77.0.1/24
    nuclei: [198.18.0.1]
EOT
chmod 0644 "$D/sf.yaml"
out=$("$OMNID" -n -f "$D/sf.yaml" 2>&1)
echo "$out" | grep -q "lab.secret.*readable by others"
ok $? "a world-readable secret file is refused: $out"
chmod 0600 "$D/lab.secret"
out=$("$OMNID" -n -f "$D/sf.yaml" 2>&1)
ok $? "the same secret file with mode 0600 is accepted (and the config may then be 0644)"

# omnid --init: a new identity, 0600 from the start, its public key
# printed; a second run prints the same key.
pub=$("$OMNID" --init --identity "$D/keys/id.key")
ok $? "omnid --init creates an identity"
mode=$(stat -c %a "$D/keys/id.key")
ok $([ "$mode" = 600 ]; echo $?) "the identity file has mode 0600 (got $mode)"
wgpub=$(wg pubkey < "$D/keys/id.key")
ok $([ "$pub" = "$wgpub" ] && [ ${#pub} -eq 44 ]; echo $?) "the printed key is the WireGuard public key ($pub)"
again=$("$OMNID" --init --identity "$D/keys/id.key")
ok $([ "$again" = "$pub" ]; echo $?) "a second --init keeps the existing key"
chmod 0644 "$D/keys/id.key"
out=$("$OMNID" --init --identity "$D/keys/id.key" 2>&1)
ok $([ $? -ne 0 ]; echo $?) "an identity readable by others is refused: $out"

done_testing
