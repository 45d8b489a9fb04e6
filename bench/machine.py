# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
What the bench learns from this machine and from the programs it runs,
rather than assumes: the syscall numbers of this architecture (from the C
compiler's <sys/syscall.h>), and the hook of every BPF program a tool or
build/floor carries (the ELF section of the program's symbol, in the BPF
object the tool embeds or floor loads).
"""
import re
import struct
import subprocess

from .config import HarnessError

EM_BPF = 247
SHT_SYMTAB = 2
STT_FUNC = 2


def syscall_numbers(cc="cc"):
    """{name: number} of this architecture's syscalls, as <sys/syscall.h> defines them."""
    try:
        r = subprocess.run([cc, "-dM", "-E", "-"], input="#include <sys/syscall.h>\n",
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        raise HarnessError("cannot run %s for the syscall numbers: %s" % (cc, e))
    nums = {m.group(1): int(m.group(2))
            for m in re.finditer(r"^#define __NR_(\w+) (\d+)$", r.stdout, re.M)}
    if r.returncode != 0 or not nums:
        raise HarnessError("%s -E '#include <sys/syscall.h>' gave no syscall numbers: %s" % (
            cc, r.stderr.strip()[-200:]))
    return nums


def _sections(data, base):
    """{function symbol: section name} of the ELF64 object at data[base:]."""
    end = "<" if data[base + 5] == 1 else ">"
    shoff, = struct.unpack_from(end + "Q", data, base + 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, base + 0x3a)
    # (name, type, flags, addr, offset, size, link, info, addralign, entsize)
    shdrs = [struct.unpack_from(end + "IIQQQQIIQQ", data, base + shoff + i * shentsize)
             for i in range(shnum)]

    def cstr(off):
        return data[off:data.index(b"\0", off)].decode()

    names = [cstr(base + shdrs[shstrndx][4] + h[0]) for h in shdrs]
    out = {}
    for h in shdrs:
        if h[1] != SHT_SYMTAB:
            continue
        strtab = base + shdrs[h[6]][4]
        for i in range(h[5] // h[9]):
            st_name, st_info, _, st_shndx, _, _ = struct.unpack_from(
                end + "IBBHQQ", data, base + h[4] + i * h[9])
            if st_info & 0xf == STT_FUNC and 0 < st_shndx < len(names):
                out[cstr(strtab + st_name)] = names[st_shndx]
    return out


def is_bpf_object(data, off):
    if data[off:off + 4] != b"\x7fELF" or data[off + 4] != 2:  # ELFCLASS64
        return False
    end = "<" if data[off + 5] == 1 else ">"
    return struct.unpack_from(end + "H", data, off + 18)[0] == EM_BPF


def program_sections(path):
    """
    {program: section} of every BPF object in the file at path: a .bpf.o
    itself, or a tool, whose skeleton embeds its object ("fexit/tcp_v4_connect",
    "tp_btf/inet_sock_set_state": the kind of hook and where it is).
    """
    with open(path, "rb") as f:
        data = f.read()
    out = {}
    off = data.find(b"\x7fELF")
    while off >= 0:
        if is_bpf_object(data, off):
            out.update(_sections(data, off))
        off = data.find(b"\x7fELF", off + 4)
    return out
