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
	{ "omni_wg_peers", METRIC_GAUGE,
	    "WireGuard peers configured, per interface." },
	{ "omni_wg_peer_rx_bytes", METRIC_GAUGE,
	    "Bytes received from a WireGuard peer (resets with the peer)." },
	{ "omni_wg_peer_tx_bytes", METRIC_GAUGE,
	    "Bytes sent to a WireGuard peer (resets with the peer)." },
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
