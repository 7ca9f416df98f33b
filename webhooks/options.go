package webhooks

import (
	"net/http"
	"time"

	"github.com/lib/pq"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/internal/delivery"
	"github.com/zhibu/zhibu/internal/safedial"
)

// Options tune the Channel. Zero fields take the defaults shown.
type Options struct {
	// MaxAttempts bounds the attempts of one delivery, and the deliveries
	// in a row that may fail for good before the subscription is disabled
	// (config webhooks.max_attempts, 8).
	MaxAttempts int
	Timeout     time.Duration // one request (webhooks.timeout, 10s)

	PollInterval time.Duration // look for new events and due retries at least this often (1s)
	// ListenURL is the database URL for LISTEN events; empty means polling only.
	ListenURL string
	// ListenDialer dials the LISTEN connection: storage.NewDialer of the
	// database.* bounds, so a partition is noticed on it as on the pool
	// (nil: lib/pq's default dialer, no keepalive).
	ListenDialer pq.Dialer

	Workers     int           // concurrent requests, one per subscription at most (8)
	BackoffBase time.Duration // first retry delay (30s), doubled per failed attempt
	BackoffMax  time.Duration // (1h)
	Batch       int           // events fanned out per subscription and round (500)
	Lease       time.Duration // a 'sending' delivery is taken back after this (2·Timeout + 10s)
	// MaintainEvery is how often expired leases are recovered and the queue
	// gauges refreshed (5s).
	MaintainEvery time.Duration

	// AllowPrivateTargets lets the default client reach loopback, private
	// and link-local addresses (webhooks.allow_private_targets, false).
	AllowPrivateTargets bool
	// Client sends the requests (default: safedial.Client, no redirects
	// followed, non-public addresses refused unless AllowPrivateTargets).
	Client *http.Client
	// Now is the clock for scheduling (clock.Real().Now). Signatures always carry
	// the wall clock: the receiver checks them against its own.
	Now func() time.Time
}

// FromConfig maps the webhooks section of the configuration.
func FromConfig(c config.Webhooks) Options {
	return Options{MaxAttempts: c.MaxAttempts, Timeout: c.Timeout.D(), AllowPrivateTargets: c.AllowPrivateTargets}
}

func (o Options) withDefaults() Options {
	def := delivery.Default[time.Duration]
	delivery.Default(&o.MaxAttempts, 8)
	def(&o.Timeout, 10*time.Second)
	def(&o.PollInterval, time.Second)
	def(&o.BackoffBase, 30*time.Second)
	def(&o.BackoffMax, time.Hour)
	def(&o.Lease, 2*o.Timeout+10*time.Second)
	def(&o.MaintainEvery, 5*time.Second)
	delivery.Default(&o.Workers, 8)
	delivery.Default(&o.Batch, 500)
	if o.Client == nil {
		o.Client = safedial.Client(o.AllowPrivateTargets)
	}
	o.Now = delivery.Clock(o.Now)
	return o
}
