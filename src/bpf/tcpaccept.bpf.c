// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tcpaccept: one event per accepted TCP connection, in the context of the
 * process that accepted it. The attach modes are in accept.bpf.h.
 */
#include "core.bpf.h"
#include "accept.bpf.h"

static __always_inline void on_accept(enum rd m, const struct sock *sk)
{
	struct event e = {};

	task_fill(&e);
	e.type = EV_ACCEPT;
	if (sock_fill(m, &e, sk) && port_allowed(e.lport))
		emit(&e);
}
