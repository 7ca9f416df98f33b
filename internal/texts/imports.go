package texts

// Imports is what an import of the units file says of a bad header or
// cell (imports.yaml); the file, row and column are prefixed by
// internal/tabular.
var Imports = MustLoad("imports", map[string][]string{
	"units.header":     {"got", "optional", "want"},
	"branch.only":      {"code", "kind", "value"},
	"branch.type":      {"types", "value", "words"},
	"branch.members":   {"max", "value"},
	"branch.committee": {"value"},
	"branch.theme_day": {"value", "why"},
	"branch.term_end":  {"value"},
})
