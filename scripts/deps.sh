#!/bin/sh
# Install the Debian packages needed to build and test the suite.
# Quick when they are all present already. `scripts/deps.sh vmtest` adds
# what `make vmtest` needs (QEMU, a static busybox, cpio, depmod, xz).
set -e
pkgs="make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
iproute2 util-linux procps python3 python3-pytest clang-format strace valgrind socat
cppcheck clang-tidy libclang-rt-14-dev"
[ "${1:-}" = vmtest ] && pkgs="$pkgs qemu-system-x86 busybox-static cpio kmod xz-utils"
missing=
for p in $pkgs; do
	dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
