// Package texts holds what the bot says, one data file per feature (issue 15:
// all user-facing text in one reviewable place, so that wording can change
// without code). A file maps keys to Telegram HTML with named placeholders,
// {name}; the code that speaks declares each key it uses with its
// placeholders, and MustLoad refuses a file that lacks a key, has one nobody
// uses, or changes a key's placeholders — so a wording change is a data
// change, and a broken one stops the program at start (and every test).
//
// Values filled into placeholders are inserted as given: callers escape user
// text for HTML.
package texts

import (
	"embed"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed *.yaml
var files embed.FS

// Catalog is one feature's texts.
type Catalog struct {
	feature string
	texts   map[string]string
}

var rePlaceholder = regexp.MustCompile(`\{([a-z_]+)\}`)

// placeholders lists the placeholders of a text, sorted, each once.
func placeholders(s string) []string {
	var out []string
	for _, m := range rePlaceholder.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

// Load reads feature.yaml and checks it against keys: every key with exactly
// its placeholders, and no other key.
func Load(feature string, keys map[string][]string) (Catalog, error) {
	raw, err := files.ReadFile(feature + ".yaml")
	if err != nil {
		return Catalog{}, fmt.Errorf("texts: %w", err)
	}
	var m map[string]string
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return Catalog{}, fmt.Errorf("texts: %s.yaml: %w", feature, err)
	}
	var problems []string
	for key, want := range keys {
		s, ok := m[key]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s is missing", key))
			continue
		}
		w := slices.Clone(want)
		sort.Strings(w)
		if got := placeholders(s); !slices.Equal(got, w) {
			problems = append(problems, fmt.Sprintf("%s has placeholders %v, want %v", key, got, w))
		}
	}
	for key := range m {
		if _, ok := keys[key]; !ok {
			problems = append(problems, fmt.Sprintf("%s is used by no code", key))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return Catalog{}, fmt.Errorf("texts: %s.yaml: %s", feature, strings.Join(problems, "; "))
	}
	return Catalog{feature: feature, texts: m}, nil
}

// MustLoad is Load for package variables: a wrong file panics at start.
func MustLoad(feature string, keys map[string][]string) Catalog {
	c, err := Load(feature, keys)
	if err != nil {
		panic(err)
	}
	return c
}

// T is the text of key with its placeholders filled from name, value pairs.
// A key the catalogue was not loaded with is a programming error: it panics.
func (c Catalog) T(key string, pairs ...string) string {
	s, ok := c.texts[key]
	if !ok {
		panic(fmt.Sprintf("texts: %s has no key %q", c.feature, key))
	}
	if len(pairs) == 0 {
		return s
	}
	old := make([]string, 0, len(pairs))
	for i := 0; i+1 < len(pairs); i += 2 {
		old = append(old, "{"+pairs[i]+"}", pairs[i+1])
	}
	return strings.NewReplacer(old...).Replace(s)
}
