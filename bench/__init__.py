# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""make bench as a package: bench/run is its command (it says what is where)."""
