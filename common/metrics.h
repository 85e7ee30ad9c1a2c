/*
 * The metrics every process may report.  metricsd renders only names
 * listed here, with their type and help text, so the exposition stays
 * valid whatever a child sends.
 */
#ifndef OMNI_METRICS_H
#define OMNI_METRICS_H

#include "omni.h"
#include "proc.h"

struct metric_def {
	const char	*name;
	int		 type;		/* METRIC_COUNTER or METRIC_GAUGE */
	const char	*help;
};

extern const struct metric_def metric_defs[];

const struct metric_def *metric_lookup(const char *);
int	metric_send(struct imsgev *, const char *, double, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
int	metric_end(struct imsgev *);

#endif
