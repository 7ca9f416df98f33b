package points

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
)

// defaultCatalogCSV is the shipped copy of the published sample catalogue: the illustrative 39-item
// catalogue the service ships as the default.
//
//go:embed default_catalog.csv
var defaultCatalogCSV string

var defaultCatalog = sync.OnceValue(func() []Item {
	items, err := ParseCatalog(strings.NewReader(defaultCatalogCSV), "default_catalog.csv")
	if err != nil {
		panic("points: the embedded default catalogue is invalid: " + err.Error())
	}
	return items
})

// DefaultCatalog returns the default catalogue: 39 items in five categories. Each call
// returns a fresh copy that the caller may change.
func DefaultCatalog() []Item {
	src := defaultCatalog()
	out := make([]Item, len(src))
	for i, it := range src {
		it.Caps = slices.Clone(it.Caps)
		it.Aliases = slices.Clone(it.Aliases)
		out[i] = it
	}
	return out
}
