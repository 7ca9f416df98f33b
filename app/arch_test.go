package app_test

import (
	"go/build"
	"path/filepath"
	"slices"
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
