#!/bin/sh
# Install the Debian packages needed to build and test the suite.
# Quick when they are all present already. `scripts/deps.sh vmtest` adds
# what `make vmtest` needs (QEMU, a static busybox, cpio, depmod, xz);
# `scripts/deps.sh arm64` what the arm64 builds, `make vmlinux-arm64` and
# `make vmtest-arm64` need (Debian multiarch: the arm64 architecture is added
# to dpkg; the arm64 kernels and busybox are only downloaded, never installed);
# `scripts/deps.sh deb` what `make deb` and `make deb-test` need (QEMU and cpio
# for its boot of the unit). Sets combine:
# `scripts/deps.sh deb arm64`.
set -e
pkgs="make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
iproute2 util-linux procps python3 python3-pytest clang-format strace valgrind socat
cppcheck clang-tidy libclang-rt-14-dev"
arm64=
for what in "$@"; do
	case $what in
	vmtest) pkgs="$pkgs qemu-system-x86 busybox-static cpio kmod xz-utils" ;;
	arm64)
		arm64=1
		pkgs="$pkgs gcc-aarch64-linux-gnu libc6-dev:arm64 libbpf-dev:arm64
libelf-dev:arm64 zlib1g-dev:arm64 qemu-system-arm cpio"
		;;
	deb) pkgs="$pkgs dpkg-dev debhelper lintian mmdebstrap qemu-system-x86 cpio" ;;
	*)
		echo "deps.sh: unknown set '$what' (vmtest, arm64, deb)" >&2
		exit 2
		;;
	esac
done
missing=
for p in $pkgs; do
	dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
if [ -n "$arm64" ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
	echo "adding the arm64 architecture to dpkg"
	dpkg --add-architecture arm64
fi
apt-get update -qq
# Multiarch may upgrade a host package to the version of its arm64 twin;
# it must never remove one (busybox-static:arm64, for one, would replace
# the host's busybox: it is not in the list above).
removed=$(apt-get install -s --no-install-recommends $missing | sed -n 's/^Remv //p')
if [ -n "$removed" ]; then
	echo "deps.sh: installing$missing would remove host packages:" >&2
	echo "$removed" >&2
	exit 1
fi
apt-get install -y -qq --no-install-recommends $missing
