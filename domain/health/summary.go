package health

// ItemLight is the light of one (branch or group, obligation, period), as
// the dashboard and /status list them.
type ItemLight struct {
	BranchID   int64
	GroupID    int64 // party group for a per-group obligation, else 0
	Obligation string
	Period     Period
	Light      Light
}

// BranchLight is a branch's light: the worst light of its items (green
// when it has none).
func BranchLight(items []ItemLight) Light {
	w := Green
	for i := range items {
		if items[i].Light.Worse(w) {
			w = items[i].Light
		}
	}
	return w
}

// BranchLights is the light of every branch that has items.
func BranchLights(items []ItemLight) map[int64]Light {
	out := make(map[int64]Light)
	for i := range items {
		it := &items[i]
		if cur, ok := out[it.BranchID]; !ok || it.Light.Worse(cur) {
			out[it.BranchID] = Worst(it.Light)
		}
	}
	return out
}

// UnitCounts counts, for every unit, its branches per light. ancestors maps
// a branch to the units above it (any order); each branch counts for
// itself and for each of them. A branch missing from ancestors counts only
// for itself.
func UnitCounts(branchLights map[int64]Light, ancestors map[int64][]int64) map[int64]Counts {
	out := make(map[int64]Counts)
	bump := func(unit int64, l Light) {
		c := out[unit]
		c.Add(l)
		out[unit] = c
	}
	for branch, l := range branchLights {
		bump(branch, l)
		for _, u := range ancestors[branch] {
			if u != branch {
				bump(u, l)
			}
		}
	}
	return out
}
