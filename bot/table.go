package bot

import "sort"

// Callbacks lists the callback prefixes the router routes, sorted: with
// Commands, the bot's whole table of doors (the access matrix test walks it).
func (r *Router) Callbacks() []string {
	out := make([]string, 0, len(r.callbacks))
	for p := range r.callbacks {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
