package app_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const storagePkg = "github.com/zhibu/zhibu/storage"

// adapters are the doors (issue #12): they reach the database through app's
// use cases and the names app/adapters.go gives them, never storage itself.
// handlers serves app's view types (app/views.go), never storage rows.
var adapters = []string{"bot", "cli", "handlers", "scheduler"}

// TestAdaptersDoNotImportStorage reads each adapter's production imports
// (tests may build fixtures with storage) and fails on storage.
func TestAdaptersDoNotImportStorage(t *testing.T) {
	// The control: app imports storage, so a reading that misses imports fails here.
	if !slices.Contains(imports(t, "app"), storagePkg) {
		t.Fatalf("app's imports do not list %s: the reading is broken", storagePkg)
	}
	for _, dir := range adapters {
		if slices.Contains(imports(t, dir), storagePkg) {
			t.Errorf("%s/ imports storage: reach it through app (app/adapters.go or a use case)", dir)
		}
	}
}

func imports(t *testing.T, dir string) []string {
	t.Helper()
	p, err := build.Default.ImportDir(filepath.Join("..", dir), 0)
	if err != nil {
		t.Fatalf("read %s/: %v", dir, err)
	}
	return p.Imports
}

const appPkg = "github.com/zhibu/zhibu/app"

// storeCalls are the Store methods an adapter may still call, with the
// reason: the composition root (cli) opens the database (app.OpenDatabase),
// hands it over and closes it; everything else goes through use cases.
var storeCalls = map[string]map[string]string{
	"cli": {"Close": "serve and the CLI commands close the database they opened"},
}

// TestAdaptersDoNotReachAroundTheUseCases type-checks each adapter's
// production files and fails on a selection of App.Store (the database
// under the use cases, by whatever path: c.App.Store, an embedding
// service's Store) and on a call of a Store method not in storeCalls.
func TestAdaptersDoNotReachAroundTheUseCases(t *testing.T) {
	fset := token.NewFileSet()
	imp := exportImporter(t, fset, adapters)
	// The control: a file doing both is caught twice.
	probe := `package probe
import "github.com/zhibu/zhibu/app"
func f(a *app.App) error { _ = a.Store.Close; return nil }`
	f, err := parser.ParseFile(fset, "probe.go", probe, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := reachesAround(t, fset, imp, "probe", []*ast.File{f}); len(got) != 2 {
		t.Fatalf("the probe reaches for App.Store and calls Store.Close, found %q: the reading is broken", got)
	}
	for _, dir := range adapters {
		p, err := build.Default.ImportDir(filepath.Join("..", dir), 0)
		if err != nil {
			t.Fatalf("read %s/: %v", dir, err)
		}
		var files []*ast.File
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		for _, msg := range reachesAround(t, fset, imp, dir, files) {
			t.Errorf("%s: reach the database through a use case of app (or of a feature package)", msg)
		}
	}
}

// reachesAround type-checks files as package dir and lists its selections
// of App.Store and its calls of Store methods that storeCalls does not allow.
func reachesAround(t *testing.T, fset *token.FileSet, imp types.Importer, dir string, files []*ast.File) []string {
	t.Helper()
	ap, err := imp.Import(appPkg)
	if err != nil {
		t.Fatalf("import app: %v", err)
	}
	var storeField types.Object
	if st, ok := ap.Scope().Lookup("App").Type().Underlying().(*types.Struct); ok {
		for i := range st.NumFields() {
			if st.Field(i).Name() == "Store" {
				storeField = st.Field(i)
			}
		}
	}
	if storeField == nil {
		t.Fatal("app.App has no field Store: update this test")
	}
	info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}}
	conf := types.Config{Importer: imp}
	if _, err := conf.Check(dir, fset, files, info); err != nil {
		t.Fatalf("type-check %s/: %v", dir, err)
	}
	var found []string
	for x, sel := range info.Selections {
		at := fset.Position(x.Sel.Pos())
		at.Filename = filepath.Join(dir, filepath.Base(at.Filename))
		switch obj := sel.Obj(); {
		case obj == storeField:
			found = append(found, fmt.Sprintf("%s: selects App.Store", at))
		case sel.Kind() != types.FieldVal && isStoreMethod(obj):
			if _, ok := storeCalls[dir][obj.Name()]; !ok {
				found = append(found, fmt.Sprintf("%s: calls Store.%s", at, obj.Name()))
			}
		}
	}
	slices.Sort(found)
	return found
}

// isStoreMethod reports a method of storage.Store (app.Store is an alias).
func isStoreMethod(obj types.Object) bool {
	fn, ok := obj.(*types.Func)
	if !ok {
		return false
	}
	recv := fn.Signature().Recv()
	if recv == nil {
		return false
	}
	t := recv.Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == storagePkg && n.Obj().Name() == "Store"
}

// exportImporter imports the packages dirs depend on from the compiler's
// export data, as `go list -export` builds it (from the build cache).
func exportImporter(t *testing.T, fset *token.FileSet, dirs []string) types.Importer {
	t.Helper()
	args := []string{"list", "-export", "-deps", "-f", "{{if .Export}}{{.ImportPath}}={{.Export}}{{end}}"}
	for _, d := range dirs {
		args = append(args, "./"+d)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list -export: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list -export: %v", err)
	}
	exports := map[string]string{}
	for line := range strings.Lines(string(out)) {
		if path, file, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			exports[path] = file
		}
	}
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
}
