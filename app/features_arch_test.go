package app_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"testing"
)

// TestFeaturesDeclareTheirStore type-checks each feature package's
// production files (issue #12: what a feature needs of storage is declared
// in one place, its store.go) and fails on a selection of App.Store outside
// the package's db() method, on a call of a *storage.Store method (a handle
// kept aside, as the health-check engine did), and on a package without its
// store interface.
func TestFeaturesDeclareTheirStore(t *testing.T) {
	features := featurePackages(t)
	for _, want := range []string{"checkin", "healthcheck"} {
		if !slices.Contains(features, want) {
			t.Fatalf("feature packages found: %q, not %s: the reading is broken", features, want)
		}
	}
	fset := token.NewFileSet()
	imp := exportImporter(t, fset, features)
	// The control: db() may select the field; a use case, a closure on
	// the *app.App and a handle kept aside may not.
	probe := `package probe
import (
	"context"
	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/storage"
)
type Service struct{ *app.App }
type store interface{ Close() error }
func (a Service) db() store { return a.Store }
func (a Service) f(ctx context.Context) error {
	_ = a.db().Close()
	_ = a.InTx(ctx, func(a *app.App) error { return a.Store.Close() })
	return a.Store.Close()
}
type kept struct{ st *storage.Store }
func (k kept) g() error { return k.st.Close() }`
	f, err := parser.ParseFile(fset, "probe.go", probe, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := storeOutsideDB(t, fset, imp, "probe", []*ast.File{f}); len(got) != 5 {
		t.Fatalf("the probe selects App.Store twice outside db() and calls Store.Close three times, found %q: the reading is broken", got)
	}
	for _, dir := range features {
		for _, msg := range storeOutsideDB(t, fset, imp, dir, mustFiles(t, fset, dir)) {
			t.Errorf("%s: go through the package's db() (and declare the method in %s/store.go)", msg, dir)
		}
	}
}

// storeOutsideDB type-checks files as package dir and lists its selections
// of App.Store outside a method named db, its calls of *storage.Store
// methods, and a missing store interface.
func storeOutsideDB(t *testing.T, fset *token.FileSet, imp types.Importer, dir string, files []*ast.File) []string {
	t.Helper()
	storeField := storeFieldOf(t, imp)
	info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}}
	conf := types.Config{Importer: imp}
	pkg, err := conf.Check(dir, fset, files, info)
	if err != nil {
		t.Fatalf("type-check %s/: %v", dir, err)
	}
	var found []string
	if o := pkg.Scope().Lookup("store"); o == nil || !types.IsInterface(o.Type()) {
		found = append(found, fmt.Sprintf("%s: declares no store interface", dir))
	}
	// db's bodies, where the field is read once.
	type span struct{ from, to token.Pos }
	var dbs []span
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil && fd.Name.Name == "db" {
				dbs = append(dbs, span{fd.Pos(), fd.End()})
			}
		}
	}
	inDB := func(p token.Pos) bool {
		return slices.ContainsFunc(dbs, func(s span) bool { return s.from <= p && p < s.to })
	}
	for x, sel := range info.Selections {
		at := fset.Position(x.Sel.Pos())
		at.Filename = filepath.Join(dir, filepath.Base(at.Filename))
		switch obj := sel.Obj(); {
		case obj == storeField && !inDB(x.Pos()):
			found = append(found, fmt.Sprintf("%s: selects App.Store", at))
		case sel.Kind() != types.FieldVal && isStoreMethod(obj):
			found = append(found, fmt.Sprintf("%s: calls Store.%s on the concrete store", at, obj.Name()))
		}
	}
	slices.Sort(found)
	return found
}

// storeFieldOf is app.App's field Store, the database under the use cases.
func storeFieldOf(t *testing.T, imp types.Importer) types.Object {
	t.Helper()
	ap, err := imp.Import(appPkg)
	if err != nil {
		t.Fatalf("import app: %v", err)
	}
	f, _, _ := types.LookupFieldOrMethod(ap.Scope().Lookup("App").Type(), false, ap, "Store")
	if v, ok := f.(*types.Var); !ok || !v.IsField() {
		t.Fatal("app.App has no field Store: update this test")
	}
	return f
}

// mustFiles is productionFiles of a directory that must hold Go files.
func mustFiles(t *testing.T, fset *token.FileSet, dir string) []*ast.File {
	t.Helper()
	files, ok := productionFiles(t, fset, dir)
	if !ok {
		t.Fatalf("%s/ holds no Go files", dir)
	}
	return files
}
