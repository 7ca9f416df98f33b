package outbox

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zhibu/zhibu/storage"
)

// metrics are the dispatcher's Prometheus series, labelled with the channel.
//
//	zhibu_outbox_queue_depth{channel,priority}     pending rows (gauge, refreshed by a query)
//	zhibu_outbox_in_flight{channel}                 rows in 'sending' (gauge, same query)
//	zhibu_outbox_oldest_due_seconds{channel}        age of the oldest due pending row (gauge)
//	zhibu_outbox_sent_total{channel,method}         rows delivered
//	zhibu_outbox_retried_total{channel,reason}      rows put back: rate_limited, temporary, migrated, paused, shutdown
//	zhibu_outbox_failed_total{channel,reason}       rows failed: bad_request, unreachable, max_age, expired, original_failed
//	zhibu_outbox_uncertain_total{channel,reason}    rows sent at most once that may or may not have been delivered and are
//	                                                not sent again: leader_changed, lease_expired, no_answer
//	zhibu_outbox_rate_limited_total{channel}        429 answers (0 when pacing works)
//	zhibu_outbox_send_seconds{channel,method}       duration of one API call (histogram)
type metrics struct {
	depth       *prometheus.GaugeVec
	inFlight    prometheus.Gauge
	oldest      prometheus.Gauge
	sent        *prometheus.CounterVec
	retried     *prometheus.CounterVec
	failed      *prometheus.CounterVec
	uncertain   *prometheus.CounterVec
	rateLimited prometheus.Counter
	latency     *prometheus.HistogramVec
}

func newMetrics(channel string, reg prometheus.Registerer) *metrics {
	// opts names a series zhibu_outbox_<name>{channel}.
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "zhibu", Subsystem: "outbox", Name: name, Help: help,
			ConstLabels: prometheus.Labels{"channel": channel}}
	}
	m := &metrics{
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts(opts("queue_depth",
			"Pending outbox rows by priority (0 replies … 6 bulk).")), []string{"priority"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts(opts("in_flight",
			"Outbox rows being sent."))),
		oldest: prometheus.NewGauge(prometheus.GaugeOpts(opts("oldest_due_seconds",
			"Age of the oldest pending row that is due (0 when none)."))),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts(opts("sent_total",
			"Outbox rows delivered.")), []string{"method"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts(opts("retried_total",
			"Outbox rows put back to pending, by reason.")), []string{"reason"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts(opts("failed_total",
			"Outbox rows that will not be delivered, by reason.")), []string{"reason"}),
		uncertain: prometheus.NewCounterVec(prometheus.CounterOpts(opts("uncertain_total",
			"Outbox rows sent at most once (red notices) whose call may or may not have been delivered; not sent again.")), []string{"reason"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts(opts("rate_limited_total",
			"429 Too Many Requests answers received."))),
		latency: prometheus.NewHistogramVec(histogramOpts(opts("send_seconds", "Duration of one send call."),
			[]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}), []string{"method"}),
	}
	for p := storage.PriorityReply; p <= storage.PriorityBulk; p++ {
		m.depth.WithLabelValues(strconv.Itoa(p))
	}
	if reg != nil {
		reg.MustRegister(m.depth, m.inFlight, m.oldest, m.sent, m.retried, m.failed, m.uncertain, m.rateLimited, m.latency)
	}
	return m
}

// histogramOpts is o for a histogram with these buckets.
func histogramOpts(o prometheus.Opts, buckets []float64) prometheus.HistogramOpts {
	return prometheus.HistogramOpts{Namespace: o.Namespace, Subsystem: o.Subsystem, Name: o.Name, Help: o.Help,
		ConstLabels: o.ConstLabels, Buckets: buckets}
}

// setStats publishes a queue snapshot.
func (m *metrics) setStats(st storage.OutboxStats) {
	for p := storage.PriorityReply; p <= storage.PriorityBulk; p++ {
		m.depth.WithLabelValues(strconv.Itoa(p)).Set(float64(st.Pending[p]))
	}
	for p, n := range st.Pending {
		if p < storage.PriorityReply || p > storage.PriorityBulk {
			m.depth.WithLabelValues(strconv.Itoa(p)).Set(float64(n))
		}
	}
	m.inFlight.Set(float64(st.Sending))
	m.oldest.Set(st.OldestDue.Seconds())
}
