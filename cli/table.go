package cli

import (
	"maps"
	"slices"
)

// Subcommands lists the binary's subcommands, sorted (the table is
// subcommands in commands.go): the access matrix test walks it.
func Subcommands() []string { return slices.Sorted(maps.Keys(subcommands)) }
