# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# bash completion for tcpconnect, tcpaccept and tcptracer (installed under
# each tool's name, so that bash-completion finds it by the command).
#
# The options, which of them take a value, and the attach modes come from
# the tool's own --help, so that this file lists no flag: --help is the one
# place a tool's options are described.

# Every option word of the tool $1: -p --pid -4 --ipv4 ...
_tcptools_options()
{
	"$1" --help 2>/dev/null | awk '/^ +-/ {
		for (i = 1; i <= NF; i++) {
			w = $i; sub(/,$/, "", w)
			if (w !~ /^-/) break
			print w
		}
	}'
}

# The long name of option $2 of the tool $1 if it takes a value (--pid for
# -p or --pid), else nothing.
_tcptools_valued()
{
	"$1" --help 2>/dev/null | awk -v opt="$2" '/^ +-/ {
		hit = 0; long = ""; arg = ""
		for (i = 1; i <= NF; i++) {
			w = $i; sub(/,$/, "", w)
			if (w !~ /^-/) { if (w ~ /^[A-Z]+$/) arg = w; break }
			if (w == opt) hit = 1
			if (w ~ /^--/) long = w
		}
		if (hit && arg != "") print long
	}'
}

# The values --help lists for option $2 of the tool $1 ("auto (default),
# fentry, kprobe or tracepoint" gives auto fentry kprobe tracepoint).
_tcptools_values()
{
	"$1" --help 2>/dev/null | sed -n "s/^ .* $2 [A-Z]*  *//p" |
		sed -e 's/([^)]*)//g' -e 's/,/ /g' -e 's/ or / /g'
}

_tcptools()
{
	local cur prev words cword split
	_init_completion -s || return

	case $(_tcptools_valued "$1" "$prev") in
	--pid)
		_pids
		return
		;;
	--uid)
		_uids
		return
		;;
	--cgroupmap | --mntnsmap)
		_filedir
		return
		;;
	--netns)
		COMPREPLY=($(compgen -W "$(stat -L -c %i /proc/[0-9]*/ns/net 2>/dev/null |
			sort -u)" -- "$cur"))
		return
		;;
	--attach)
		COMPREPLY=($(compgen -W "$(_tcptools_values "$1" --attach)" -- "$cur"))
		return
		;;
	--*)
		# a value of no fixed set (ports)
		return
		;;
	esac
	$split && return

	[[ $cur == -* ]] && COMPREPLY=($(compgen -W "$(_tcptools_options "$1")" -- "$cur"))
} &&
	complete -F _tcptools tcpconnect tcpaccept tcptracer

# ex: filetype=sh
