// Package webhooks delivers zhibu's domain events (the events table:
// checkin.recorded, claim.submitted, claim.decided, points.redeemed,
// settlement.closed, light.changed, …) to the URLs that integrators
// subscribed, signed per Standard Webhooks.
//
// # Rules
//
// Fan-out. Each active subscription has a durable cursor over the events
// table. The Channel turns the events after it into deliveries (one row per
// event and subscription, UNIQUE, so a fan-out repeated after a crash adds
// nothing) when the event's type is subscribed (no types: every type) and
// its unit lies in the subscription's unit subtree. Events are read in
// (transaction id, id) order below the oldest transaction still running in
// the database, so an event that commits after a later one is never passed
// over (see storage.FanOutWebhookEvents).
//
// Request. POST to the subscription's URL with the JSON body
//
//	{"type":"checkin.recorded","timestamp":"2026-11-20T02:03:04.5Z","data":{…the event's payload…}}
//
// and the headers webhook-id ("msg_<event id>_<subscription id>": the same on
// every retry, so a receiver dedupes on it), webhook-timestamp (Unix seconds
// of this attempt) and webhook-signature ("v1,<base64 HMAC-SHA256 of
// id.timestamp.body>" keyed with the subscription's whsec_ secret). The body
// is the same bytes on every attempt. Redirects are not followed, and
// unless AllowPrivateTargets (webhooks.allow_private_targets) the
// connection is refused when the resolved address is loopback, private,
// link-local or unspecified (internal/safedial): that attempt fails for
// good, its reason recorded, nothing sent (SPEC §7.5).
//
// Outcome of an attempt. 2xx is delivered. 5xx, 408, 429, timeouts and
// connection errors are retried with exponential back-off and equal jitter
// (BackoffBase doubling up to BackoffMax; a longer Retry-After is obeyed)
// until the delivery has had MaxAttempts attempts; any other status (3xx,
// 4xx) fails the delivery at once. Every attempt is logged in
// webhook_attempts (status, error, duration). When MaxAttempts deliveries
// in a row of one subscription have failed for good, the subscription is
// disabled (active false, with the reason); one delivered request resets
// the count.
//
// Fairness. At most one request per subscription is in flight, oldest due
// delivery first, so a slow or dead receiver is not flooded and holds up no
// other. Deliveries of one subscription may arrive out of order when one of
// them is being retried.
//
// At least once. A claimed delivery is 'sending' with a lease; a process that
// dies mid-request leaves it to be taken back after the lease and sent
// again (the attempt counts). Only the leader runs the Channel (leader.Run);
// claims use SKIP LOCKED and results are recorded only while the delivery
// is still that attempt's.
//
// Fenced. Under leader.Run each claim carries the leadership's fencing
// epoch (leader.FenceFrom), as the outbox's do: the database refuses a
// claim under a superseded epoch (storage.ErrStaleLeader) and the dispatcher
// stops, after recording the requests it has in flight. A Channel starting
// under a new epoch first puts back the deliveries claimed under older ones
// (Store.RecoverWebhookFromOldLeaders), so a dead or cut-off leader's
// deliveries go out again within a poll of the take-over, not after their
// lease; the old leader's late results are then only logged. Such a
// request was maybe made, so the receiver may get it twice, with the same
// webhook-id: at most one per subscription, the one in flight.
//
// Wake-up. LISTEN events (storage.AppendEvent notifies it) wakes the Channel
// at once; PollInterval polling is the fallback and brings retries that
// came due.
//
// Secrets never appear in logs: a subscription is logged by id, and HTTP
// client errors are logged without their URL.
//
// # Wiring
//
// The Channel is a lane of the outbox dispatcher (outbox.Lane): the loop
// — claims, worker pool, wake-ups, fence, stop — is outbox's; this package
// holds what is webhooks' own: fan-out, signing, the request, its retry
// schedule, the attempts log and the zhibu_webhooks_* metrics.
//
//	opts := webhooks.FromConfig(cfg.Webhooks)
//	opts.ListenURL = cfg.Database.URL                  // LISTEN events; polling is the fallback
//	d := outbox.New(store, outbox.NewTelegram(b), oopts, log, reg)
//	d.Add(webhooks.NewChannel(store, opts, log, reg))  // one more channel of the dispatcher
//	go leader.Run(ctx, el, time.Second, d.Run)          // only the leader delivers
package webhooks
