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
# The caller sets KCACHE (a directory of its own) and KARCH (amd64, arm64),
# then `kernel_fetch SELECTOR DIR` downloads the package (once, into DIR) and
# sets KERNEL_PKG, KERNEL_VER and DEB. A series takes its newest package that
# the mirror really serves (see kernel_fetch).

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
		[ -n "$(find "$d/lists" -maxdepth 1 -name '*_Packages*' 2>/dev/null)" ] ||
			apt_bullseye update >&2 || return 1
		apt-cache -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
			-o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" \
			-o APT::Architectures::="$KARCH" pkgnames linux-image-
	fi
}

# Is SELECTOR one of Debian 11's series (its packages are in bullseye)?
kernel_selector_is_bullseye() {
	case ${1%%-*} in 5.10 | 5.10.*) return 0 ;; esac
	return 1
}

# Does SELECTOR name one package (a full version) rather than a series?
kernel_selector_is_exact() {
	local sel=${1%-"$KARCH"}
	sel=${sel%-rt}
	case $sel in *-* | *+deb*) return 0 ;; esac
	return 1
}

# The packages a selector names, newest first: those of a series, or the one
# of a full version. E.g. linux-image-5.10.0-46-amd64-unsigned.
kernel_candidates() {
	local sel=$1 re s flavour=$KARCH src=
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
	kernel_selector_is_bullseye "$sel" && src=bullseye
	kernel_pkgnames $src | grep -E "$re" | sort -urV
}

# Is this package one of Debian 11's (fetched through apt_bullseye)?
kernel_is_bullseye() {
	case $1 in linux-image-5.10.*) return 0 ;; esac
	return 1
}

# Download PACKAGE into DIR, once: sets DEB to the .deb's path. Returns 0, 2
# when the mirror does not have the package (404, or no version of it in the
# lists), 1 on any other failure (the network, say).
debian_download() {
	local pkg=$1 dir=$2 name=${1%%:*} err
	mkdir -p "$dir"
	DEB=$(find "$dir" -name "${name}_*.deb" | sort -V | tail -1)
	[ -n "$DEB" ] && return 0
	if kernel_is_bullseye "$pkg"; then
		err=$(cd "$dir" && apt_bullseye download "$pkg" 2>&1)
	else
		err=$(cd "$dir" && apt-get download -q=2 -o APT::Sandbox::User=root "$pkg" 2>&1)
	fi
	DEB=$(find "$dir" -name "${name}_*.deb" | sort -V | tail -1)
	[ -n "$DEB" ] && return 0
	case $err in
	*" 404 "* | *"has no candidate"* | *"Unable to locate package"*) return 2 ;;
	esac
	[ -n "$err" ] && echo "$err" >&2
	return 1
}

# The package lists the selector's packages come from, updated once per run:
# the host's (Debian 12), or bullseye's own under $KCACHE.
KERNEL_LISTS_UPDATED=
kernel_update_lists() {
	case " $KERNEL_LISTS_UPDATED " in *" $1 "*) return 1 ;; esac
	KERNEL_LISTS_UPDATED="$KERNEL_LISTS_UPDATED $1"
	echo "${0##*/}: updating the package lists ($1)" >&2
	if [ "$1" = bullseye ]; then
		apt_bullseye update >&2
	else
		apt-get update -qq >&2
	fi
}

# A package the mirror did not have is remembered for a week (a file under
# $KCACHE/unavailable), so that a series falls through to the newest package
# that downloads at once: arm64's 5.10.0-46 is listed in bullseye-security, but
# the mirror answers 404 for the arm64 .debs there.
kernel_unavailable() {
	[ -n "$(find "$KCACHE/unavailable" -maxdepth 1 -name "$1" -mtime -7 2>/dev/null)" ]
}

# Download the newest package a selector names that the mirror really has,
# into DIR (once): sets KERNEL_PKG (linux-image-...-unsigned), KERNEL_VER
# (5.10.0-32-arm64) and DEB. A package that is not there (404) is tried again
# after the lists are updated (once per run), then the next older one of the
# series is; a full version selects that package or nothing.
kernel_fetch() {
	local sel=$1 dir=$2 src=host pkg rc exact='' tried=''
	# shellcheck disable=SC2034 # for the caller
	KERNEL_PKG='' KERNEL_VER='' DEB=
	kernel_selector_is_bullseye "$sel" && src=bullseye
	kernel_selector_is_exact "$sel" && exact=1
	while :; do
		tried=
		for pkg in $(kernel_candidates "$sel"); do
			[ -z "$exact" ] && kernel_unavailable "$pkg" && continue
			debian_download "$pkg" "$dir"
			rc=$?
			if [ "$rc" = 0 ]; then
				# shellcheck disable=SC2034 # for the caller
				KERNEL_PKG=$pkg
				KERNEL_VER=${pkg#linux-image-}
				KERNEL_VER=${KERNEL_VER%-unsigned}
				return 0
			fi
			[ "$rc" = 2 ] || return 1
			tried=$pkg
			# Stale lists name a package the mirror has dropped: update them
			# first (once), and only then take an older package.
			kernel_update_lists "$src" && continue 2
			echo "${0##*/}: $pkg: not on the mirror (404)" >&2
			mkdir -p "$KCACHE/unavailable" && touch "$KCACHE/unavailable/$pkg"
			[ -n "$exact" ] && return 1
		done
		# none listed (or all known to be missing): update the lists once
		kernel_update_lists "$src" || break
	done
	echo "${0##*/}: no package for '$sel' downloads${tried:+ (the last tried: $tried)}" >&2
	return 1
}
