/*
 * Metric definitions and the helpers children use to report samples.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

const struct metric_def metric_defs[] = {
	{ "omni_build_info", METRIC_GAUGE,
	    "Build information, always 1." },
	{ "omni_child_restarts_total", METRIC_COUNTER,
	    "Child processes restarted by the parent after they died." },
	{ "omni_config_reloads_total", METRIC_COUNTER,
	    "Configuration reloads, by result." },
	{ "omni_interfaces", METRIC_GAUGE,
	    "WireGuard interfaces managed by this omnid." },
	/* issue 7 (the parent) */
	{ "omni_local_addrs_updates_total", METRIC_COUNTER,
	    "Changes of the host's underlay addresses or default routes "
	    "told to signald." },
	{ "omni_netmon_dumps_total", METRIC_COUNTER,
	    "Full reads of the host's links, addresses and routes made to "
	    "follow underlay changes." },
	{ "omni_peer_paths_invalid_total", METRIC_COUNTER,
	    "Peer paths from signald the parent dropped as invalid." },
	{ "omni_wg_peers", METRIC_GAUGE,
	    "WireGuard peers configured, per interface." },
	{ "omni_wg_peer_received_bytes_total", METRIC_COUNTER,
	    "Bytes received from a WireGuard peer (from 0 when the peer is "
	    "added again)." },
	{ "omni_wg_peer_sent_bytes_total", METRIC_COUNTER,
	    "Bytes sent to a WireGuard peer (from 0 when the peer is added "
	    "again)." },
	{ "omni_wg_peer_last_handshake_seconds", METRIC_GAUGE,
	    "Unix time of the latest handshake with a peer, 0 if none." },
	{ "omni_signal_sent_total", METRIC_COUNTER,
	    "Signaling datagrams sent, by message type." },
	{ "omni_signal_received_total", METRIC_COUNTER,
	    "Signaling datagrams accepted, by message type." },
	{ "omni_signal_dropped_total", METRIC_COUNTER,
	    "Signaling datagrams dropped, by reason." },
	{ "omni_edge_registered", METRIC_GAUGE,
	    "1 when the edge holds a registration acknowledged by a nucleus." },
	{ "omni_nucleus_clusters", METRIC_GAUGE,
	    "Clusters with at least one edge at this nucleus." },
	{ "omni_nucleus_edges", METRIC_GAUGE,
	    "Edges registered at this nucleus." },
	{ "omni_metrics_dropped_total", METRIC_COUNTER,
	    "Samples metricsd refused, by reason." },
	/* STUN */
	{ "omni_stun_requests_total", METRIC_COUNTER,
	    "STUN Binding requests the nucleus answered, by answer." },
	{ "omni_stun_dropped_total", METRIC_COUNTER,
	    "STUN messages dropped, by reason." },
	{ "omni_stun_client_sent_total", METRIC_COUNTER,
	    "STUN Binding requests sent to STUN servers, retransmissions "
	    "included." },
	{ "omni_stun_client_transactions_total", METRIC_COUNTER,
	    "STUN transactions with STUN servers, by result." },
	{ "omni_stun_reflexive_seen", METRIC_GAUGE,
	    "Unix time a STUN server last reported this reflexive address, "
	    "by interface and server." },
	/* issue 7: NAT traversal probes (signald/probe.c) */
	{ "omni_probe_sent_total", METRIC_COUNTER,
	    "Probe datagrams sent from the WireGuard port, by kind "
	    "(request, answer, stun)." },
	{ "omni_probe_received_total", METRIC_COUNTER,
	    "Probe datagrams accepted on the WireGuard port, by kind." },
	{ "omni_probe_dropped_total", METRIC_COUNTER,
	    "Probe datagrams dropped or not sent, by reason." },
	{ "omni_probe_paths", METRIC_GAUGE,
	    "Peers by probe state (idle, running, ok, failed)." },
	{ "omni_probe_queued", METRIC_GAUGE,
	    "Peers waiting for a probe slot." },
	/* operating omni (wgctld) */
	{ "omni_peers", METRIC_GAUGE,
	    "WireGuard peers per interface by path: direct-lan, direct-nat "
	    "or direct (a handshake within 180 s; over a private host "
	    "candidate, a NAT mapping, or a public host or no probe "
	    "information), relayed, or none." },
	{ "omni_wg_handshakes_total", METRIC_COUNTER,
	    "WireGuard handshakes completed, per interface, as seen by "
	    "polling every 2 s (several within one poll count once)." },
	{ "omni_nucleus_rtt_seconds", METRIC_GAUGE,
	    "Round trip of the latest signaling exchange with a nucleus, "
	    "per interface and nucleus." },
	{ "omni_edge_registration_latency_seconds", METRIC_GAUGE,
	    "Round trip of the exchange that registered an interface with "
	    "a nucleus." },
	{ NULL, 0, NULL }
};

const struct metric_def *
metric_lookup(const char *name)
{
	const struct metric_def	*d;

	for (d = metric_defs; d->name != NULL; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

/*
 * Queue one sample to the parent.  labels is a printf format for the
 * label pairs without braces, e.g. "iface=\"%s\"", or NULL.
 */
int
metric_send(struct imsgev *iev, const char *name, double value,
    const char *labels, ...)
{
	struct omni_metric	 m;
	va_list			 ap;

	memset(&m, 0, sizeof(m));
	strlcpy(m.name, name, sizeof(m.name));
	if (labels != NULL) {
		va_start(ap, labels);
		vsnprintf(m.labels, sizeof(m.labels), labels, ap);
		va_end(ap);
	}
	m.value = value;
	return imsgev_compose(iev, IMSG_METRIC, 0, -1, &m, sizeof(m));
}

int
metric_end(struct imsgev *iev)
{
	return imsgev_compose(iev, IMSG_METRIC_END, 0, -1, NULL, 0);
}
