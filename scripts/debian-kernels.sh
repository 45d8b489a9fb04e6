# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# shellcheck shell=bash
#
# Which of Debian's kernel packages a selector names, for scripts/vmtest and
# scripts/vmtest-arm64 (sourced by both). A selector is a series (5.10, 6.1,
# 6.12: its newest package), a series with a flavour (6.1-rt, 6.12-rt) or a
# full version (5.10.0-46-amd64, 6.1.0-57, 6.12.118+deb12-rt-amd64).
#
# Debian 12's own kernels (6.1, 6.12) come from the host's apt lists.
# Debian 11's (5.10) are in the suites bullseye and bullseye-security, which
# the host does not list: they are looked up and downloaded through an apt
# configuration of these scripts' own under $KCACHE/apt-bullseye (its own
# sources list, lists and package cache, verified with Debian's archive
# keyring), so that /etc/apt is never changed.
#
# The caller sets KCACHE (a directory of its own) and KARCH (amd64, arm64).

# The mirror URIs the host's apt uses for Debian and for its security suite.
debian_mirrors() {
	local main sec
	main=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
		grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -1 | tr -d ' ')
	sec=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
		grep -oE 'https?://[^ ]+/debian-security/?( |$)' | head -1 | tr -d ' ')
	echo "${main:-http://deb.debian.org/debian} ${sec:-http://deb.debian.org/debian-security}"
}

# apt-get with the bullseye configuration: apt_bullseye update|download ...
apt_bullseye() {
	local d=$KCACHE/apt-bullseye main sec
	if [ ! -f "$d/sources.list" ]; then
		read -r main sec <<<"$(debian_mirrors)"
		mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
		{
			echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $main bullseye main"
			echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $sec bullseye-security main"
		} >"$d/sources.list"
	fi
	apt-get -q=2 -o Dir::Etc::SourceList="$d/sources.list" \
		-o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists="$d/lists" \
		-o Dir::Cache="$d/cache" -o APT::Architectures::="$KARCH" \
		-o APT::Sandbox::User=root "$@"
}

# Every linux-image package name apt knows, host lists and bullseye's.
kernel_pkgnames() {
	local d=$KCACHE/apt-bullseye
	apt-cache pkgnames linux-image-
	if [ "${1:-}" = bullseye ]; then
		[ -n "$(ls "$d/lists" 2>/dev/null | grep -v partial)" ] || apt_bullseye update >&2 || return 1
		apt-cache -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
			-o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" \
			-o APT::Architectures::="$KARCH" pkgnames linux-image-
	fi
}

# The package a selector names, e.g. linux-image-5.10.0-46-amd64-unsigned.
kernel_package() {
	local sel=$1 re s flavour=$KARCH series src=
	case $sel in
	*-rt | *-rt-"$KARCH") flavour=rt-$KARCH sel=${sel%-rt*} ;;
	esac
	sel=${sel%-"$KARCH"}
	s=$(printf '%s' "$sel" | sed 's/[.+]/\\&/g')
	case $sel in
	*-* | *+deb*) re="^linux-image-$s-$flavour-unsigned\$" ;;
	[0-9]*.[0-9]*) re="^linux-image-($s\\.0-[0-9]+|$s\\.[0-9]+\\+deb[0-9]+)-$flavour-unsigned\$" ;;
	*) return 1 ;;
	esac
	series=${sel%%-*}
	case $series in 5.10 | 5.10.*) src=bullseye ;; esac
	kernel_pkgnames $src | grep -E "$re" | sort -uV | tail -1
}

# Is this package one of Debian 11's (fetched through apt_bullseye)?
kernel_is_bullseye() {
	case $1 in linux-image-5.10.*) return 0 ;; esac
	return 1
}

# Download PACKAGE into DIR (once); print the .deb's path.
kernel_download() {
	local pkg=$1 dir=$2 name=${1%%:*} deb
	mkdir -p "$dir"
	deb=$(find "$dir" -name "${name}_*.deb" | sort -V | tail -1)
	if [ -z "$deb" ]; then
		if kernel_is_bullseye "$pkg"; then
			(cd "$dir" && apt_bullseye download "$pkg") >&2 ||
				(apt_bullseye update >&2 && cd "$dir" && apt_bullseye download "$pkg") >&2 ||
				return 1
		else
			(cd "$dir" && apt-get download -q=2 -o APT::Sandbox::User=root "$pkg") >&2 ||
				return 1
		fi
		deb=$(find "$dir" -name "${name}_*.deb" | sort -V | tail -1)
	fi
	[ -n "$deb" ] && echo "$deb"
}
