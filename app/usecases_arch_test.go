package app_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const modulePath = "github.com/zhibu/zhibu/"

// withoutActor lists, grouped by the reason, the exported methods that are
// not use cases and so do not start with (ctx, actor): "pkg.Method" for a
// feature package's Service, "app.Method" for *app.App. Everything else a
// door can call is a use case (issue #12): it takes the actor and asks the
// one policy (app.Authorise, Scope, Can) before it reads or changes a unit.
//
// inside marks the methods only feature packages may call: they read or
// change a unit for a use case that has authorised, so a door (bot, cli,
// handlers, scheduler) calling one would skip the policy.
var withoutActor = []struct {
	reason  string
	inside  bool
	methods []string
}{
	{"establishes the actor from a credential (a Telegram account, a token, a bind code, a " +
		"dashboard session, a signed request), or ends the credential", false, []string{
		"accounts.ActorByTelegram", "accounts.ActorByToken", "accounts.DashboardActor",
		"accounts.DashboardLogin", "accounts.DashboardLogout", "accounts.RedeemBindCode",
		"accounts.ConfirmRelink", // only the Telegram account that redeemed the code may answer
		"checkin.AuthenticateIntegration",
	}},
	{"the authenticated integration is the actor: IntegrationActor(in), which RecordCheckin authorises", false, []string{
		"checkin.RecordIntegrationCheckin",
	}},
	{"a step or a read inside a use case that authorised (the comment names it)", true, []string{
		"app.NotOwedReason",             // checkin's RecordCheckin
		"app.WithBranchInfo",            // accounts' UnitTree, after UnitForActor
		"integrations.NotifyUnitRobots", // the health check's digests (RunHealthcheck)
		"villagepoints.CatalogFor",      // claims, free-text claims (the sender's household); CatalogForActor is the door's
		"healthcheck.BranchLightsOf",    // checkin's replies, after RecordCheckin authorised
		"healthcheck.BranchStatusOf",    // checkin's 补开 choices; dashboard's boards, after Scope
		"healthcheck.UnitSummaryOf",     // dashboard's board, after Scope
		"healthcheck.EscalationsUnder",  // dashboard's escalations board, after Scope(ListPeople)
	}},
	{"renders or parses, pure: a result already authorised, or a request not yet made", false, []string{
		"checkin.CheckinConfirmation", "checkin.CheckinCopy", "checkin.RejectPromptText",
		"checkin.RejectedNotice", "checkin.RejectedReply", "checkin.RenderLights",
		"checkin.WithdrawnReply", "villagepoints.VetoLabel",
	}},
	{"reads the configuration or the rules, the same for every unit", false, []string{
		"app.BotUsername", "app.SetBotUsername", "accounts.StartDate",
		"healthcheck.HealthRules", "healthcheck.ObligationMatcher", "healthcheck.Obligation",
		"healthcheck.Obligations", "healthcheck.Calendar",
		"villagepoints.CurrentPeriod", "villagepoints.PeriodKind", "villagepoints.SettleKinds",
	}},
	{"transactions and the update log: the system's own bookkeeping (app/inbox.go, app/tx.go)", false, []string{
		"app.InTx", "app.InTxRefusable", "app.With", "app.Inbox",
		"app.SendReply", // the bot's reply to the update it is processing
	}},
	{"the chat an update came from, as Telegram tells it (app/chats.go): what the bot then " +
		"shows goes through use cases that authorise", false, []string{
		"app.GroupUnit", "app.MigrateChat", "app.MarkChatReachable",
		"checkin.AttachAlbumPhoto", // an album's photo is the evidence of its check-in, whoever sent it
	}},
	{"the offline sandbox's console (cli/sandbox*.go), served in sandbox mode only to whoever runs it", false, []string{
		"demo.ChatMessageCounts", "demo.ChatSends", "demo.ChatUpdates", "demo.ConversationIDs",
		"demo.Loaded", "demo.UpdateSettled",
	}},
}

// TestEveryUseCaseTakesAnActor reads the exported methods of *app.App and
// of every feature package's Service (a package declaring
// `type Service struct{ *app.App }`) and fails on one whose parameters do
// not start with (ctx context.Context, actor domain.Actor) unless
// withoutActor lists it, and on an entry of withoutActor that names no such
// method or one that takes the actor now, so that the list stays true.
func TestEveryUseCaseTakesAnActor(t *testing.T) {
	features := featurePackages(t)
	for _, want := range []string{"accounts", "checkin", "dashboard", "healthcheck"} {
		if !slices.Contains(features, want) {
			t.Fatalf("feature packages found %q, not %s: the reading is broken", features, want)
		}
	}
	fset := token.NewFileSet()
	imp := exportImporter(t, fset, append([]string{"app"}, features...))

	// The control: a probe service with one use case and one method that
	// lacks the actor, one that has it second, one that takes a pointer.
	probe := `package probe
import ("context"; "github.com/zhibu/zhibu/app"; "github.com/zhibu/zhibu/domain")
type Service struct{ *app.App }
func (Service) Good(ctx context.Context, actor domain.Actor, id int64) error { return nil }
func (*Service) GoodToo(context.Context, domain.Actor) {}
func (Service) NoActor(ctx context.Context, id int64) error { return nil }
func (Service) Swapped(actor domain.Actor, ctx context.Context) {}
func (Service) Pointer(ctx context.Context, actor *domain.Actor) {}
func (Service) unexported(id int64) {}`
	f, err := parser.ParseFile(fset, "probe.go", probe, 0)
	if err != nil {
		t.Fatal(err)
	}
	pp, err := (&types.Config{Importer: imp}).Check("probe", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatalf("type-check the probe: %v", err)
	}
	if got, want := lacksActor(t, pp, "Service"), []string{"NoActor", "Pointer", "Swapped"}; !slices.Equal(got, want) {
		t.Fatalf("the probe's methods without the actor: got %q, want %q: the reading is broken", got, want)
	}

	reasons := map[string]string{}
	for _, g := range withoutActor {
		for _, m := range g.methods {
			if _, dup := reasons[m]; dup {
				t.Errorf("withoutActor lists %s twice", m)
			}
			reasons[m] = g.reason
		}
	}
	declared := map[string]bool{}
	lacking := map[string]bool{}
	read := func(dir, typ string) {
		p, err := imp.Import(modulePath + dir)
		if err != nil {
			t.Fatalf("import %s: %v", dir, err)
		}
		for _, m := range methods(t, p, typ) {
			declared[dir+"."+m.Name()] = true
		}
		for _, name := range lacksActor(t, p, typ) {
			lacking[dir+"."+name] = true
		}
	}
	read("app", "App")
	for _, dir := range features {
		read(dir, "Service")
	}
	var names []string
	for m := range lacking {
		names = append(names, m)
	}
	slices.Sort(names)
	for _, m := range names {
		if _, ok := reasons[m]; !ok {
			t.Errorf("%s does not start with (ctx context.Context, actor domain.Actor): a use case "+
				"takes the actor and authorises (app.Authorise, Scope, Can); if it is no use case, "+
				"list it in withoutActor with its reason", m)
		}
	}
	for _, g := range withoutActor {
		for _, m := range g.methods {
			switch {
			case !declared[m]:
				t.Errorf("withoutActor lists %s, which no longer exists: drop it", m)
			case !lacking[m]:
				t.Errorf("withoutActor lists %s, which takes the actor now: drop it", m)
			}
		}
	}
	if len(declared) < 100 || len(lacking) == 0 {
		t.Fatalf("read %d methods, %d without the actor: the reading is broken", len(declared), len(lacking))
	}
}

// TestDoorsDoNotCallStepsOfUseCases type-checks each adapter's production
// files and fails on a call of a method withoutActor marks inside: the
// door would read or change a unit without the policy.
func TestDoorsDoNotCallStepsOfUseCases(t *testing.T) {
	inside := map[string]bool{}
	for _, g := range withoutActor {
		for _, m := range g.methods {
			inside[m] = g.inside
		}
	}
	fset := token.NewFileSet()
	imp := exportImporter(t, fset, adapters)
	// The control: a probe door calling two steps, one through *app.App
	// and one through a service, and a use case.
	probe := `package probe
import ("context"; "github.com/zhibu/zhibu/app"; "github.com/zhibu/zhibu/domain"; "github.com/zhibu/zhibu/healthcheck")
func f(ctx context.Context, a *app.App, u domain.Unit) {
	_, _ = a.WithBranchInfo(ctx, nil)
	_, _ = healthcheck.Of(a).BranchStatusOf(ctx, u.ID)
	_, _ = healthcheck.Of(a).BranchStatus(ctx, domain.Operator, u.ID)
}`
	f, err := parser.ParseFile(fset, "probe.go", probe, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := stepCalls(t, fset, imp, "probe", []*ast.File{f}, inside)
	if want := []string{"probe/probe.go:4:11: calls app.WithBranchInfo", "probe/probe.go:5:27: calls healthcheck.BranchStatusOf"}; !slices.Equal(got, want) {
		t.Fatalf("the probe calls two steps, found %q: the reading is broken", got)
	}
	for _, dir := range adapters {
		files, _ := productionFiles(t, fset, dir)
		for _, msg := range stepCalls(t, fset, imp, dir, files, inside) {
			t.Errorf("%s, a step of a use case that authorises: call the use case", msg)
		}
	}
}

// stepCalls type-checks files as package dir and lists its selections of
// the methods inside marks.
func stepCalls(t *testing.T, fset *token.FileSet, imp types.Importer, dir string, files []*ast.File, inside map[string]bool) []string {
	t.Helper()
	info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}}
	if _, err := (&types.Config{Importer: imp}).Check(dir, fset, files, info); err != nil {
		t.Fatalf("type-check %s/: %v", dir, err)
	}
	var found []string
	for x, sel := range info.Selections {
		fn, ok := sel.Obj().(*types.Func)
		if !ok || fn.Signature().Recv() == nil || fn.Pkg() == nil {
			continue
		}
		key := strings.TrimPrefix(fn.Pkg().Path(), modulePath) + "." + fn.Name()
		if inside[key] {
			at := fset.Position(x.Sel.Pos())
			at.Filename = filepath.Join(dir, filepath.Base(at.Filename))
			found = append(found, fmt.Sprintf("%s: calls %s", at, key))
		}
	}
	slices.Sort(found)
	return found
}

// featurePackages lists the module's top-level packages that declare
// `type Service struct{ *app.App }`.
func featurePackages(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || e.Name() == "app" {
			continue
		}
		files, ok := productionFiles(t, token.NewFileSet(), e.Name())
		if !ok {
			continue
		}
		if embedsApp(files) {
			out = append(out, e.Name())
		}
	}
	return out
}

// embedsApp reports whether files declare a struct type Service embedding *app.App.
func embedsApp(files []*ast.File) bool {
	for _, f := range files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, s := range g.Specs {
				ts := s.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if ts.Name.Name != "Service" || !ok {
					continue
				}
				for _, fld := range st.Fields.List {
					star, ok := fld.Type.(*ast.StarExpr)
					if !ok || len(fld.Names) > 0 {
						continue
					}
					if sel, ok := star.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "App" {
						return true
					}
				}
			}
		}
	}
	return false
}

// methods are the methods p's type typ declares (not those it promotes).
func methods(t *testing.T, p *types.Package, typ string) []*types.Func {
	t.Helper()
	obj := p.Scope().Lookup(typ)
	if obj == nil {
		t.Fatalf("%s declares no %s: update this test", p.Path(), typ)
	}
	n, ok := obj.Type().(*types.Named)
	if !ok {
		t.Fatalf("%s.%s is not a named type", p.Path(), typ)
	}
	var out []*types.Func
	for i := range n.NumMethods() {
		out = append(out, n.Method(i))
	}
	return out
}

// lacksActor lists, sorted, the exported methods of p's typ whose
// parameters do not start with (context.Context, domain.Actor).
func lacksActor(t *testing.T, p *types.Package, typ string) []string {
	t.Helper()
	var out []string
	for _, m := range methods(t, p, typ) {
		if !m.Exported() {
			continue
		}
		ps := m.Signature().Params()
		if ps.Len() < 2 || !isNamed(ps.At(0).Type(), "context", "Context") || !isNamed(ps.At(1).Type(), modulePath+"domain", "Actor") {
			out = append(out, m.Name())
		}
	}
	slices.Sort(out)
	return out
}

func isNamed(t types.Type, pkg, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pkg && n.Obj().Name() == name
}
