/*
 * metricsd's sample store and Prometheus text renderer.
 *
 * Nothing here knows about libevent or sockets: samples go in, a
 * snapshot is committed per reporting process, and the exposition
 * comes out as one malloc'd string.  That keeps it unit-testable and
 * fuzzable on its own.
 */
#ifndef OMNI_RENDER_H
#define OMNI_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "omni.h"
#include "metrics.h"

/* Bound on one process's snapshot, so memory stays bounded. */
#define MSTORE_MAX_SAMPLES	100000

/* Why a sample was refused: the reason label of omni_metrics_dropped. */
enum mstore_drop {
	MDROP_INVALID = 0,	/* unknown name, bad labels, bad value */
	MDROP_LIMIT,		/* over MSTORE_MAX_SAMPLES in a snapshot */
	MDROP_SENDER,		/* no such reporting process */
	MDROP_MAX
};

struct msample {
	const struct metric_def	*ms_def;
	char			*ms_labels;	/* NULL: no labels */
	double			 ms_value;
};

struct mset {
	struct msample		*mset_v;
	size_t			 mset_n;
	size_t			 mset_cap;
	int64_t			 mset_when;	/* commit time, 0: never */
};

/*
 * live[p] is what a scrape sees of process p; stage[p] collects the
 * snapshot p is sending now and replaces live[p] whole on commit.
 * live[PROC_METRICSD] holds metricsd's own counters (mstore_self).
 */
struct mstore {
	struct mset		 ms_live[PROC_MAX];
	struct mset		 ms_stage[PROC_MAX];
	uint64_t		 ms_dropped[MDROP_MAX];
};

int	 metric_labels_valid(const char *);
const struct metric_def *metric_sample_valid(const struct omni_metric *);

void	 mstore_init(struct mstore *);
void	 mstore_free(struct mstore *);
int	 mstore_add(struct mstore *, uint32_t, const struct omni_metric *);
int	 mstore_commit(struct mstore *, uint32_t, int64_t);
void	 mstore_expire(struct mstore *, int64_t, int64_t);
int	 mstore_self(struct mstore *, int64_t);
size_t	 mstore_count(const struct mstore *);

char	*render_exposition(const struct mstore *, size_t *);

#endif
