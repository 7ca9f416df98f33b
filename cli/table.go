package cli

import "sort"

// Subcommands lists the binary's subcommands, sorted (the table is
// subcommands in commands.go): the access matrix test walks it.
func Subcommands() []string {
	out := make([]string, 0, len(subcommands))
	for name := range subcommands {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
