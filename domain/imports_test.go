package domain

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const domainPkg = "github.com/zhibu/zhibu/domain"

// noIO are the standard packages that reach outside the process. The pure
// rules take what they need (the instant, the zone, a reader) as arguments.
var noIO = []string{"os", "net", "database", "syscall", "log", "io/ioutil", "runtime/cgo", "plugin"}

// TestDomainIsPure reads the production imports of package domain and every
// package under it (docs/ARCHITECTURE.md, "Rules each package obeys"): the
// standard library and other domain packages only, and nothing of the
// standard library that does I/O.
func TestDomainIsPure(t *testing.T) {
	seen := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if d.Name() == "testdata" {
			return filepath.SkipDir
		}
		p, err := build.Default.ImportDir(path, 0)
		if _, none := err.(*build.NoGoError); none {
			return nil
		}
		if err != nil {
			return err
		}
		seen[strings.TrimSuffix(domainPkg+"/"+filepath.ToSlash(path), "/.")] = p.Imports
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The control: a reading that misses packages or imports fails here.
	if !slices.Contains(seen[domainPkg+"/command"], domainPkg+"/health") {
		t.Fatalf("domain/command's imports do not list domain/health (read %d packages): the reading is broken", len(seen))
	}
	for pkg, imps := range seen {
		for _, imp := range imps {
			first, _, _ := strings.Cut(imp, "/")
			switch {
			case imp == domainPkg || strings.HasPrefix(imp, domainPkg+"/"):
			case strings.Contains(first, "."):
				t.Errorf("%s imports %s: domain is the standard library only", pkg, imp)
			case slices.ContainsFunc(noIO, func(p string) bool { return imp == p || strings.HasPrefix(imp, p+"/") }):
				t.Errorf("%s imports %s: the pure rules do no I/O; take what it gives as an argument", pkg, imp)
			}
		}
	}
}
