#!/bin/sh
# Create the unprivileged user the children of omnid(8) run as and the
# directories omnid uses: /var/lib/omni (identity keys, 0700) and the
# empty directory the children chroot into.  Idempotent; "make
# install" runs it (when DESTDIR is empty), the tests run it too.
set -e
USER_NAME=${OMNI_USER:-_omnid}
if ! getent passwd "$USER_NAME" >/dev/null; then
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin --user-group "$USER_NAME"
	echo "created user $USER_NAME"
fi
install -d -m 0700 -o root -g root /var/lib/omni
install -d -m 0755 -o root -g root /var/lib/omni/empty
