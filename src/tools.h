/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Each tool's description and table layout, shared with the unit tests. */
#ifndef TOOLS_H
#define TOOLS_H

#include "format.h"
#include "options.h"

extern const struct tool_desc tcpconnect_tool;
extern const struct tool_desc tcpaccept_tool;
extern const struct tool_desc tcptracer_tool;

#endif
