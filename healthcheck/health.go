package healthcheck

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/domain/notice"
	"github.com/zhibu/zhibu/internal/clock"
	"github.com/zhibu/zhibu/internal/texts"
	"github.com/zhibu/zhibu/storage"
)

// Evaluation is the result of one health check over a subtree at one
// instant: the lights, and the digests sent (or, in a dry run, that would
// be sent).
type Evaluation struct {
	At     time.Time
	Root   *domain.Unit // nil = every unit
	DryRun bool

	// Lights lists, for every branch (and party group), the current
	// period of each obligation, the next one when its yellow window is
	// open, and every missed past period (when kept).
	Lights []health.ItemLight
	// Codes and Names name the branches and groups of Lights by id.
	Codes, Names map[int64]string
	// Counts counts branches per light (a branch's light is its worst).
	Counts health.Counts
	// Branches are per-branch statuses (summaries only).
	Branches []BranchStatus

	// Digests are the digests planned (when kept); Silenced the items
	// that would have been notified but are silenced.
	Digests  []health.Digest
	Silenced []health.Item
	// Deferred: quiet hours or a holiday; nothing was sent, and the
	// planned lines wait until NextAllowed.
	Deferred    bool
	DeferReason string
	NextAllowed time.Time
	// Stats count the planner's lines. A deferred evaluation that keeps
	// no digests (the scheduler's) does not plan: its Stats stay zero and
	// Items counts the items held.
	Stats health.PlanStats

	Items    int // items given to the planner
	Sent     int // digests planned
	Messages int // outbox rows written
	Changes  int // lights that changed since the last recorded evaluation
	Took     time.Duration
	// Timings break Took down by phase (loads, walk, planning, writes).
	Timings []Timing
}

// Timing is the time one phase of an evaluation took.
type Timing struct {
	Phase string
	Took  time.Duration
}

// ItemStatus is one listed item of a branch with the facts behind its
// light, for /status, the dashboard and the escalations list.
type ItemStatus struct {
	health.ItemLight
	GroupCode  string
	GroupName  string
	YellowFrom time.Time
	Due        time.Time
	CheckedIn  bool
	Exempt     bool
	Ack        *storage.Ack // latest acknowledgement of a red item
	// Reason says why an item is yellow when its deadline does not: its
	// meetings were held below quorum.
	Reason string
}

// BranchStatus is a branch's light and its items (yellow and red ones, or
// every listed one for a single branch).
type BranchStatus struct {
	ID    int64
	Code  string
	Name  string
	Light health.Light
	Items []ItemStatus
}

// errConcurrentEvaluation: a notice line was logged by someone else while
// this evaluation ran; it is rolled back and the next one plans afresh.
var errConcurrentEvaluation = errors.New("app: healthcheck: another evaluation logged the same notices; rolled back")

// rootOf resolves a unit code ("" = every unit).
func (a Service) rootOf(ctx context.Context, unitCode string) (*domain.Unit, error) {
	if unitCode == "" {
		return nil, nil
	}
	u, err := a.db().UnitByCode(ctx, unitCode)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, domain.UnitNotFound(unitCode)
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// Evaluate runs one health check as of at over the subtree of unitCode
// ("" = every unit) and changes nothing: it returns every light and the
// digests that would be sent (a dry run). The system's job, or the operator's.
func (a Service) Evaluate(ctx context.Context, actor domain.Actor, at time.Time, unitCode string) (*Evaluation, error) {
	var ev *Evaluation
	err := a.inScan(ctx, actor, func(a *app.App) error {
		var err error
		ev, err = Of(a).evaluate(ctx, at, unitCode, evalMode{plan: true, keepLights: true, keepDigests: true})
		return err
	})
	return ev, err
}

// RunHealthcheck evaluates as of at over the subtree of unitCode ("" =
// every unit) and acts on it, in one transaction under the evaluation lock:
// light changes are stored (with light.changed events) and the digests are
// logged and enqueued, each notice line at most once whatever restarts,
// retries or replicas (see storage.RecordDigests). keep retains the lights
// and digests in the result (the CLI prints them); the scheduler passes
// false so that a province is evaluated in bounded memory. The system's
// job, or the operator's.
func (a Service) RunHealthcheck(ctx context.Context, actor domain.Actor, at time.Time, unitCode string, keep bool) (*Evaluation, error) {
	var ev *Evaluation
	err := a.inScan(ctx, actor, func(a *app.App) error {
		if err := Of(a).db().LockHealthcheck(ctx); err != nil {
			return err
		}
		var err error
		ev, err = Of(a).evaluate(ctx, at, unitCode, evalMode{plan: true, record: true, keepLights: keep, keepDigests: keep})
		if err != nil {
			return err
		}
		if !ev.Deferred && unitCode == "" {
			cal, err := Of(a).Calendar(ctx)
			if err != nil {
				return err
			}
			if err := Of(a).warnMissingCalendar(ctx, cal, at); err != nil {
				return err
			}
		}
		run := storage.HealthRun{At: at, Took: ev.Took, Items: ev.Items, Digests: ev.Sent, Lines: ev.Stats.Lines,
			Changes: ev.Changes, Deferred: ev.Deferred}
		if ev.Root != nil {
			run.RootID = ev.Root.ID
		}
		return Of(a).db().RecordHealthRun(ctx, run)
	})
	if err != nil {
		return nil, err
	}
	a.Log.Info("healthcheck", slog.Time("at", at), slog.String("unit", unitCode), slog.Int("items", ev.Items),
		slog.Int("digests", ev.Sent), slog.Int("messages", ev.Messages), slog.Int("changes", ev.Changes),
		slog.Bool("deferred", ev.Deferred), slog.Int64("took_ms", ev.Took.Milliseconds()))
	return ev, nil
}

// inScan authorises the actor to run the check, then runs fn in one
// transaction tuned for the scan: the dry run and the real one alike.
func (a Service) inScan(ctx context.Context, actor domain.Actor, fn func(a *app.App) error) error {
	if err := a.AuthoriseGlobal(ctx, actor, access.RunJobs, "healthcheck"); err != nil {
		return err
	}
	return a.InTx(ctx, func(a *app.App) error {
		if err := Of(a).db().TuneForScan(ctx); err != nil {
			return err
		}
		return fn(a)
	})
}

func (a Service) evaluate(ctx context.Context, at time.Time, unitCode string, mode evalMode) (*Evaluation, error) {
	started := clock.Monotonic()
	root, err := a.rootOf(ctx, unitCode)
	if err != nil {
		return nil, err
	}
	var rootID int64
	if root != nil {
		rootID = root.ID
	}
	e, err := a.newEngine(ctx, a.db(), at, rootID, mode)
	if err != nil {
		return nil, err
	}
	e.ev.Root = root
	if err := e.run(ctx); err != nil {
		return nil, err
	}
	ev := e.ev
	ev.Took = time.Since(started)
	return ev, nil
}

// BranchLights lists the lights of one branch at a.Now(): for each
// obligation (per party group for a per-group one, or the branch itself
// when it has no groups) the current period, the next when its yellow
// window is open, and every missed past period. It reads through a.db(),
// so inside a check-in's transaction it sees the new check-in (the done
// summary is kept by triggers in that same transaction).
func (a Service) BranchLights(ctx context.Context, actor domain.Actor, branchID int64) ([]health.ItemLight, error) {
	if err := a.AuthoriseID(ctx, actor, access.ViewUnit, "health.lights", branchID); err != nil {
		return nil, err
	}
	return a.BranchLightsOf(ctx, branchID)
}

func (a Service) BranchLightsOf(ctx context.Context, branchID int64) ([]health.ItemLight, error) {
	st, err := a.BranchStatusOf(ctx, branchID)
	if err != nil {
		return nil, err
	}
	out := make([]health.ItemLight, len(st.Items))
	for i := range st.Items {
		out[i] = st.Items[i].ItemLight
	}
	return out, nil
}

// BranchStatus is BranchLights with the facts behind each light.
func (a Service) BranchStatus(ctx context.Context, actor domain.Actor, branchID int64) (BranchStatus, error) {
	if err := a.AuthoriseID(ctx, actor, access.ViewUnit, "health.status", branchID); err != nil {
		return BranchStatus{}, err
	}
	return a.BranchStatusOf(ctx, branchID)
}

func (a Service) BranchStatusOf(ctx context.Context, branchID int64) (BranchStatus, error) {
	u, err := a.db().UnitByID(ctx, branchID)
	if err != nil {
		return BranchStatus{}, err
	}
	if u.Kind != domain.KindBranch {
		return BranchStatus{}, domain.Refuse(domain.ErrInvalid, "%s 不是党支部。", u.Name)
	}
	e, err := a.newEngine(ctx, a.db(), a.Now(), branchID, evalMode{statuses: true, allItems: true})
	if err != nil {
		return BranchStatus{}, err
	}
	if err := e.run(ctx); err != nil {
		return BranchStatus{}, err
	}
	if len(e.ev.Branches) != 1 {
		return BranchStatus{}, fmt.Errorf("app: branch lights of %d: %d branches", branchID, len(e.ev.Branches))
	}
	st := e.ev.Branches[0]
	order := make(map[string]int, len(e.obs))
	for i, ob := range e.obs {
		order[ob.Code] = i
	}
	slices.SortStableFunc(st.Items, func(x, y ItemStatus) int {
		return cmp.Or(cmp.Compare(order[x.Obligation], order[y.Obligation]), strings.Compare(x.GroupCode, y.GroupCode), x.Period.Compare(y.Period))
	})
	return st, nil
}

// StatusUnits are the units whose status /status shows when neither the
// command nor the chat names one: the branches the actor is secretary of
// and the units they organise or administer, each once, in the order of
// the actor's roles. An actor with none of those roles is refused (not
// audited: nothing was asked of a unit).
func (a Service) StatusUnits(ctx context.Context, actor domain.Actor) ([]domain.Unit, error) {
	var units []domain.Unit
	seen := map[int64]bool{}
	for _, r := range actor.Roles {
		if seen[r.UnitID] {
			continue
		}
		switch {
		case r.Role == domain.RoleSecretary && r.UnitKind == domain.KindBranch:
		case r.Role == domain.RoleOrganiser || r.Role == domain.RoleAdmin:
		default:
			continue
		}
		seen[r.UnitID] = true
		u, err := a.UnitByID(ctx, actor, r.UnitID)
		if err != nil {
			return nil, err
		}
		units = append(units, u)
	}
	if len(units) == 0 {
		return nil, domain.Refuse(domain.ErrForbidden, "%s", ht.T("status.forbidden"))
	}
	return units, nil
}

// UnitSummary counts the branches of a unit's subtree per light at a.Now()
// and returns every branch with its yellow and red items, worst first.
func (a Service) UnitSummary(ctx context.Context, actor domain.Actor, unitID int64) (health.Counts, []BranchStatus, error) {
	if err := a.AuthoriseID(ctx, actor, access.ViewUnit, "health.summary", unitID); err != nil {
		return health.Counts{}, nil, err
	}
	return a.UnitSummaryOf(ctx, unitID)
}

func (a Service) UnitSummaryOf(ctx context.Context, unitID int64) (health.Counts, []BranchStatus, error) {
	e, err := a.newEngine(ctx, a.db(), a.Now(), unitID, evalMode{statuses: true})
	if err != nil {
		return health.Counts{}, nil, err
	}
	if err := e.run(ctx); err != nil {
		return health.Counts{}, nil, err
	}
	bs := e.ev.Branches
	slices.SortStableFunc(bs, func(x, y BranchStatus) int {
		return cmp.Or(cmp.Compare(y.Light.Severity(), x.Light.Severity()), strings.Compare(x.Code, y.Code))
	})
	return e.ev.Counts, bs, nil
}

// digestKey is the outbox dedupe key of a digest: a hash of its sorted
// notice keys, so the same lines always make the same key.
func digestKey(keys []string) string {
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	h := sha256.New()
	for _, k := range sorted {
		h.Write([]byte(k))
		h.Write([]byte{'\n'})
	}
	return "hc:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// digestPriority maps a digest's level to its outbox priority.
func digestPriority(l health.Level) int {
	switch l {
	case health.LevelRed:
		return storage.PriorityRed
	case health.LevelYellow:
		return storage.PriorityYellow
	}
	return storage.PriorityGreen
}

// AckData is the callback data of a 收到 button (callback.AckButton).
func AckData(unitID int64, obligation, period string) string {
	return callback.AckButton(unitID, obligation, period)
}

// noticeWording is what the health check's notices say, from the
// catalogue (internal/texts/notices.yaml); a wrong file stops the program at
// start, like every catalogue.
var noticeWording = func() *health.Wording {
	w, err := health.NewWording(func(key string) string { return texts.Notices.T(key) })
	if err != nil {
		panic(err)
	}
	return w
}()

// digestRecord turns a planned digest into what storage logs and enqueues:
// its parts rendered for Telegram, the 收到 buttons (of the last) as its
// inline keyboard.
func digestRecord(d *health.Digest) storage.DigestRecord {
	r := storage.DigestRecord{
		DedupeKey: digestKey(d.Keys), PersonID: d.PersonID, PersonName: d.Name, ChatID: d.ChatID,
		ViaFallback: d.ViaFallback, Undeliverable: d.Undeliverable, Level: string(d.Level),
		Priority: digestPriority(d.Level), Texts: d.Texts(), Markup: digestKeyboard(d),
		Lines: make([]storage.NoticeLine, len(d.Notices)),
	}
	for i, n := range d.Notices {
		k := n.Key
		r.Lines[i] = storage.NoticeLine{Key: d.Keys[i], PersonID: k.PersonID, UnitID: k.UnitID, Obligation: k.Obligation, Period: k.Period,
			Level: string(k.Level), Slot: k.Slot, Role: string(n.Role), OrgLevel: n.OrgLevel}
	}
	return r
}

// digestKeyboard is the reply_markup of a digest's last part (nil = none).
func digestKeyboard(d *health.Digest) any {
	if len(d.Parts) == 0 {
		return nil
	}
	return notice.Keyboard(d.Parts[len(d.Parts)-1].Buttons)
}
